// Finding the registration's NIK, name and letter number in a PDF's text layer, so the
// verifier sees at a glance whether the letter names this person. Pure functions over the
// text items pdf.js returns; tested with Vitest.

export type Needle = "nik" | "name" | "letter_number";

export interface Match {
  needle: Needle;
  /** Indices of the text items (spans of the text layer) the match covers. */
  items: number[];
}

/** How each needle is compared: NIK digits ignore spaces and punctuation; names and
 * letter numbers ignore case and spacing. */
function normalise(needle: Needle, text: string): string {
  if (needle === "nik") return text.replace(/\D+/g, "");
  return text.toLowerCase().replace(/\s+/g, "");
}

/**
 * Finds each needle in the page's items. The name comes without its titles already
 * (core's `without_titles`, sent with each queue item as `name_in_letter`). Items are joined in reading order; a match may
 * span several items (pdf.js often splits "NIK : 3171 0112 ..." into pieces).
 */
export function findMatches(items: string[], needles: Partial<Record<Needle, string>>): Match[] {
  const matches: Match[] = [];
  for (const needle of Object.keys(needles) as Needle[]) {
    const raw = needles[needle];
    if (!raw) continue;
    const wanted = normalise(needle, raw);
    if (wanted.length < (needle === "nik" ? 16 : 3)) continue;
    // Build the normalised page text with, for each character, the item it came from.
    let text = "";
    const owner: number[] = [];
    items.forEach((item, index) => {
      const part = normalise(needle, item);
      text += part;
      for (let i = 0; i < part.length; i++) owner.push(index);
    });
    let from = 0;
    for (;;) {
      const at = text.indexOf(wanted, from);
      if (at < 0) break;
      const covered = new Set<number>();
      for (let i = at; i < at + wanted.length; i++) covered.add(owner[i]!);
      matches.push({ needle, items: [...covered].sort((a, b) => a - b) });
      from = at + wanted.length;
    }
  }
  return matches;
}

/** Which needles were found anywhere in the document. */
export function found(matchesPerPage: Match[][]): Record<Needle, boolean> {
  const all = matchesPerPage.flat();
  return {
    nik: all.some((m) => m.needle === "nik"),
    name: all.some((m) => m.needle === "name"),
    letter_number: all.some((m) => m.needle === "letter_number"),
  };
}
