// How the sync state reads on screen.

import type { SyncStatus } from "./bindings";

export interface ConnectionText {
  label: string;
  tone: "online" | "offline" | "sinkron" | "galat" | "diam";
}

export function connectionText(status: SyncStatus): ConnectionText {
  const c = status.connection;
  switch (c.state) {
    case "online":
      return { label: status.outbox > 0 ? `Daring · ${status.outbox} menunggu` : "Daring", tone: "online" };
    case "offline":
      return { label: status.outbox > 0 ? `Luring · ${status.outbox} menunggu sinkronisasi` : "Luring", tone: "offline" };
    case "syncing":
      return { label: c.total ? `Sinkronisasi ${c.done} dari ${c.total}` : `Sinkronisasi… ${c.done}`, tone: "sinkron" };
    case "sign_in_needed":
      // Queued actions are kept; they go after the next sign-in.
      return { label: status.outbox > 0 ? `Perlu masuk kembali · ${status.outbox} menunggu` : "Perlu masuk kembali", tone: "galat" };
    case "error":
      return { label: "Gangguan sinkronisasi", tone: "galat" };
    default:
      return { label: "Menghubungkan…", tone: "diam" };
  }
}
