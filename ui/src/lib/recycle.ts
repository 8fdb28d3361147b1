// A long-lived helper (pdf.js's worker) that is replaced after serving a number of jobs,
// without a job waiting for the replacement: the successor is started a little after the
// last job of the old one began (while the person reads), the next job goes to it, and the
// old one is ended once none of its own jobs is open any more.

export type Lifecycle<W> = {
  start: () => W;
  end: (worker: W) => void;
  /** Whether the worker died by itself (it is replaced at once). */
  dead?: (worker: W) => boolean;
};

type Lent<W> = { worker: W; served: number; open: number; retired: boolean };

export class Recycler<W> {
  #current: Lent<W> | null = null;
  #successor: W | null = null;
  #starting: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly life: Lifecycle<W>,
    /** Jobs a worker serves before its successor takes over. */
    private readonly after: number,
    /** How long after the last job's start the successor is started, milliseconds. */
    private readonly delay: number,
  ) {}

  /** The worker for the next job; `done` gives it back once the job is closed. */
  borrow(): { worker: W; done: () => void } {
    const current = this.#current;
    if (current && this.#successor !== null && current.served >= this.after) {
      this.#retire(current);
      this.#current = { worker: this.#successor, served: 0, open: 0, retired: false };
      this.#successor = null;
    }
    if (!this.#current || this.life.dead?.(this.#current.worker)) {
      this.#current = { worker: this.life.start(), served: 0, open: 0, retired: false };
    }
    const lent = this.#current;
    lent.served += 1;
    lent.open += 1;
    if (lent.served >= this.after && this.#successor === null && this.#starting === undefined) {
      this.#starting = setTimeout(() => {
        this.#starting = undefined;
        this.#successor ??= this.life.start();
      }, this.delay);
    }
    let given = false;
    return {
      worker: lent.worker,
      done: () => {
        if (given) return;
        given = true;
        lent.open -= 1;
        if (lent.retired && lent.open === 0) this.life.end(lent.worker);
      },
    };
  }

  #retire(lent: Lent<W>) {
    lent.retired = true;
    if (lent.open === 0) this.life.end(lent.worker);
  }
}
