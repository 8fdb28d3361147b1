// Formatting of domain values for reading. Pure functions, tested with Vitest.

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
