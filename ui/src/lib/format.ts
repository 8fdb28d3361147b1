// Formatting of domain values for reading. Pure functions, tested with Vitest.
import { VOCABULARY } from "./bindings";

/** Groups a NIK as people read it aloud: `3171 0112 0190 0001`. */
export function groupNik(nik: string): string {
  return inFours(nik.replace(/\s+/g, ""));
}

/** Hides all but the last four digits, for lists: `•••• •••• •••• 0001`. */
export function maskNik(nik: string): string {
  const digits = nik.replace(/\s+/g, "");
  return inFours("•".repeat(Math.max(digits.length - 4, 0)) + digits.slice(-4));
}

function inFours(text: string): string {
  return text.replace(/(.{4})(?=.)/g, "$1 ");
}

const BULAN = [
  "Januari", "Februari", "Maret", "April", "Mei", "Juni",
  "Juli", "Agustus", "September", "Oktober", "November", "Desember",
];

/** `1990-01-12` → `12 Januari 1990`. Written out rather than through Intl so the text
 * is the same on every WebView, whatever locale data it ships. */
export function tanggalIndonesia(isoDate: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  if (!m) return isoDate;
  const [, y, mo, d] = m;
  const month = BULAN[Number(mo) - 1];
  return month ? `${Number(d)} ${month} ${y}` : isoDate;
}

/** Whether the text could become a NIK as the person keeps typing (only digits and
 * spaces, at most 16 digits): the field then waits instead of showing an error. */
export function nikStillTyping(text: string): boolean {
  const digits = text.replace(/\s+/g, "");
  return /^\d*$/.test(digits) && digits.length < 16;
}

/** A status code with its label, as the guide writes statuses ("1" followed by the
 * label); the words are core's, through the bindings' `VOCABULARY`. */
export function statusLabel(status: number): string {
  return VOCABULARY.statuses.find((s) => s.code === status)?.display ?? String(status);
}

/** An RFC 3339 time as a local date and time: `25-11-2026 14:05`. */
export function waktu(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getDate())}-${two(d.getMonth() + 1)}-${d.getFullYear()} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** Bytes as people read them: `1,2 MB`. */
export function ukuran(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(".", ",")} MB`;
}
