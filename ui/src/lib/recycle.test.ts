import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Recycler } from "./recycle";

describe("Recycler", () => {
  let started: number[];
  let ended: number[];
  let next: number;
  const recycler = () =>
    new Recycler<number>(
      {
        start: () => {
          started.push(next);
          return next++;
        },
        end: (w) => ended.push(w),
      },
      3,
      1000,
    );

  beforeEach(() => {
    vi.useFakeTimers();
    started = [];
    ended = [];
    next = 1;
  });
  afterEach(() => vi.useRealTimers());

  it("serves jobs from one worker until its successor has started", () => {
    const r = recycler();
    for (let i = 0; i < 5; i++) {
      const job = r.borrow();
      expect(job.worker).toBe(1);
      job.done();
    }
    // The successor starts a while after the third job, not at a job's start.
    expect(started).toEqual([1]);
    vi.advanceTimersByTime(1000);
    expect(started).toEqual([1, 2]);
    const job = r.borrow();
    expect(job.worker).toBe(2);
    expect(ended).toEqual([1]);
  });

  it("ends the old worker only when its last open job is closed", () => {
    const r = recycler();
    const [a, b, c] = [r.borrow(), r.borrow(), r.borrow()];
    vi.advanceTimersByTime(1000);
    const fresh = r.borrow();
    expect(fresh.worker).toBe(2);
    a.done();
    b.done();
    expect(ended).toEqual([]);
    c.done();
    c.done(); // giving back twice counts once
    expect(ended).toEqual([1]);
    fresh.done();
    expect(ended).toEqual([1]);
  });

  it("replaces a worker that died at once", () => {
    const dead = new Set<number>();
    let n = 1;
    const r = new Recycler<number>({ start: () => n++, end: () => {}, dead: (w) => dead.has(w) }, 10, 1000);
    expect(r.borrow().worker).toBe(1);
    dead.add(1);
    expect(r.borrow().worker).toBe(2);
  });
});
