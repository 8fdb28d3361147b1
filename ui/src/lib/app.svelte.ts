// The app's shared state: which screen, who is signed in, the sync state, and short
// messages ("toasts"). Svelte 5 runes in a module, so every screen reads the same state.

import { commands, events, type Account, type BulkQueued, type CommandError, type SyncStatus, type UpdateState } from "./bindings";

export type Screen =
  | { name: "beranda" }
  | { name: "daftar"; status?: number }
  | { name: "tambah"; koreksi?: string }
  | { name: "verifikasi"; id?: string; overdueOnly?: boolean }
  | { name: "detail"; id: string }
  | { name: "hapus"; id: string; reason?: string }
  | { name: "sinkronisasi" }
  | { name: "pengaturan" }
  | { name: "administrasi" };

export type Phase = "memuat" | "server" | "masuk" | "aplikasi";

export interface Toast {
  id: number;
  kind: "info" | "sukses" | "salah";
  text: string;
}

const emptyStatus: SyncStatus = {
  connection: { state: "idle" },
  outbox: 0,
  conflicts: 0,
  pending_registrations: 0,
  overdue_registrations: 0,
  escalated_registrations: 0,
  last_sync: null,
};

export const app = $state({
  phase: "memuat" as Phase,
  serverUrl: null as string | null,
  account: null as Account | null,
  /** The satker an operator active in several satkers chose to work in. */
  workingSatker: null as string | null,
  status: emptyStatus,
  screen: { name: "beranda" } as Screen,
  toasts: [] as Toast[],
  /** Bumped when local data changed (an action, a pull), so lists reload. */
  revision: 0,
  /** The last bulk decision in Verifikasi, followed until closed (also across screens). */
  lastBatch: null as { queued: BulkQueued; label: string } | null,
  /** What the last look at the update address found (at start, or "Periksa pembaruan"). */
  update: null as UpdateState | null,
  /** Why this copy cannot update itself (a build without the publisher's key), if so. */
  updateUnavailable: null as string | null,
});

let nextToast = 1;

export function toast(text: string, kind: Toast["kind"] = "info"): void {
  const id = nextToast++;
  app.toasts.push({ id, kind, text });
  setTimeout(() => {
    const i = app.toasts.findIndex((t) => t.id === id);
    if (i >= 0) app.toasts.splice(i, 1);
  }, kind === "salah" ? 8000 : 4000);
}

export function go(screen: Screen): void {
  app.screen = screen;
}

export function isKppn(): boolean {
  return app.account?.role === "kppn";
}

/** A central operator: sees Administrasi and Pengaturan, no membership data. */
export function isAdmin(): boolean {
  return app.account?.role === "admin";
}

/** Unwraps a command result: the data, or throws the `{code, message, fields}` error. */
export async function call<T>(result: Promise<{ status: "ok"; data: T } | { status: "error"; error: CommandError }>): Promise<T> {
  const r = await result;
  if (r.status === "ok") return r.data;
  throw r.error;
}

export function isCommandError(e: unknown): e is CommandError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

export function messageOf(e: unknown): string {
  if (isCommandError(e)) return e.message;
  return e instanceof Error ? e.message : String(e);
}

/** Asks once, at start, whether a newer version is offered. Quiet when it cannot tell
 * (no network, a build without an update key): Pengaturan says why when asked there. */
export async function checkUpdateAtStart(): Promise<void> {
  const r = await commands.checkUpdate();
  if (r.status === "ok") app.update = r.data;
  else if (r.error.code === "update_not_configured") app.updateUnavailable = r.error.message;
}

/** Loads where the app stands and follows the sync state from then on. */
export async function start(): Promise<void> {
  await events.syncStatusChanged.listen((e) => {
    const before = app.status;
    app.status = e.payload;
    // A first sync writes the Antrean before the rest: its count changing shows it.
    const changed =
      before.outbox !== e.payload.outbox ||
      before.last_sync !== e.payload.last_sync ||
      before.conflicts !== e.payload.conflicts ||
      before.pending_registrations !== e.payload.pending_registrations;
    if (changed) {
      app.revision++;
    }
    if (e.payload.connection.state === "sign_in_needed" && app.phase === "aplikasi") {
      toast("Sesi berakhir. Silakan masuk kembali; tindakan yang belum terkirim tetap tersimpan.", "salah");
      app.phase = "masuk";
    }
  });
  await events.noticeRaised.listen((e) => {
    const n = e.payload;
    if (n.kind === "new_registrations") toast(`${n.count} pendaftaran baru menunggu verifikasi.`);
    if (n.kind === "conflict") toast(`Tindakan ditolak server: ${n.detail}`, "salah");
    if (n.kind === "status_changed") toast(`${n.name}: status berubah.`);
    app.revision++;
  });
  await refreshSession();
}

/** A satker's code with its name, as people know it: `019001 · Satker Uji`. */
export function satkerTitle(code: string): string {
  const name = app.account?.satkers?.find((s) => s.code === code)?.name;
  return name ? `${code} · ${name}` : code;
}

/** Switches the satker a person active in several works in (kept across restarts). */
export async function chooseSatker(code: string): Promise<void> {
  await call(commands.chooseSatker(code));
  app.workingSatker = code;
  app.revision++;
}

export async function refreshSession(): Promise<void> {
  const s = await call(commands.sessionState());
  app.serverUrl = s.server_url;
  // Another account's bulk decision is not shown to the next one.
  if (s.account?.nik !== app.account?.nik) app.lastBatch = null;
  app.account = s.account;
  app.status = s.status;
  if (!s.server_url) app.phase = "server";
  else if (!s.account) app.phase = "masuk";
  else {
    app.phase = "aplikasi";
    app.workingSatker = s.working_satker;
    if (s.account.role === "admin" && app.screen.name !== "pengaturan") app.screen = { name: "administrasi" };
    else if (s.account.role !== "admin" && app.screen.name === "administrasi") app.screen = { name: "beranda" };
  }
}
