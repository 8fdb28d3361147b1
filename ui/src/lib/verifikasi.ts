// Verification screen logic: keyboard shortcuts and common rejection reasons.

export type Command = "next" | "previous" | "approve" | "reject" | "undo";

/** Seconds a key-press approval (A) waits before it is queued, so "Batalkan" (or Z) can
 * take back a slip of the finger. */
export const UNDO_SECONDS = 5;

/** Shortcuts shown on screen: J/K next/previous, A approve, R reject, Z take back the last
 * key-press approval while it waits. Ignored while the
 * person types in a field, and when a modifier is held (browser shortcuts stay intact). */
export function shortcut(event: { key: string; ctrlKey?: boolean; metaKey?: boolean; altKey?: boolean; target?: unknown }): Command | null {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  const target = event.target as { tagName?: string; isContentEditable?: boolean } | null | undefined;
  const tag = target?.tagName?.toLowerCase();
  if (tag === "input" || tag === "textarea" || tag === "select" || target?.isContentEditable) return null;
  switch (event.key.toLowerCase()) {
    case "j":
      return "next";
    case "k":
      return "previous";
    case "a":
      return "approve";
    case "r":
      return "reject";
    case "z":
      return "undo";
    default:
      return null;
  }
}

/** Reasons KPPN verifiers give most often; free text is always possible. */
export const REJECTION_REASONS = [
  "Surat tugas belum ditandatangani pejabat yang berwenang",
  "Nama pada surat tidak sesuai dengan nama pengguna",
  "NIK pada surat tidak sesuai dengan NIK pengguna",
  "Nomor surat tidak sesuai dengan isian No. ST",
  "Formulir lampiran tidak ada atau tidak lengkap",
  "Dokumen tidak dapat dibaca dengan jelas",
] as const;

/** The next index in the queue after a decision, staying in range. */
export function nextIndex(current: number, length: number, command: "next" | "previous"): number {
  if (length === 0) return 0;
  const step = command === "next" ? 1 : -1;
  return Math.min(Math.max(current + step, 0), length - 1);
}

/** A request as the selection for a bulk decision sees it: only one whose letter was
 * opened in this app may be selected. */
export interface Selectable {
  id: string;
  selectable: boolean;
}

/** A click on the checkbox of row `at`: toggles it; with Shift held, every selectable row
 * between the previous click (`anchor`) and this one takes the same new state. */
export function toggleSelection(selected: ReadonlySet<string>, rows: readonly Selectable[], at: number, anchor: number | null, shift: boolean): Set<string> {
  const next = new Set(selected);
  const row = rows[at];
  if (!row?.selectable) return next;
  const on = !selected.has(row.id);
  const [from, to] = shift && anchor !== null && anchor < rows.length ? [Math.min(anchor, at), Math.max(anchor, at)] : [at, at];
  for (const r of rows.slice(from, to + 1)) {
    if (!r.selectable) continue;
    if (on) next.add(r.id);
    else next.delete(r.id);
  }
  return next;
}

/** "Pilih semua yang sudah dilihat": every request whose letter was opened here. */
export function selectSeen(rows: readonly Selectable[]): Set<string> {
  return new Set(rows.filter((r) => r.selectable).map((r) => r.id));
}

/** Keeps only the selected ids still in the list (decided ones leave it). */
export function keepPresent(selected: ReadonlySet<string>, rows: readonly Selectable[]): Set<string> {
  const present = new Set(rows.filter((r) => r.selectable).map((r) => r.id));
  return new Set([...selected].filter((id) => present.has(id)));
}
