// Windowed rendering for long tables: which rows to draw and which pages to fetch.

export interface Range {
  start: number;
  end: number;
}

/** Rows `[start, end)` to render for a viewport, with `overscan` rows either side. */
export function visibleRange(scrollTop: number, viewport: number, rowHeight: number, total: number, overscan = 10): Range {
  if (total <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(scrollTop, 0) / rowHeight);
  const count = Math.ceil(Math.max(viewport, 0) / rowHeight) + 1;
  return { start: Math.max(first - overscan, 0), end: Math.min(first + count + overscan, total) };
}

/** The page numbers (of `pageSize` rows) a range needs. */
export function pagesFor(range: Range, pageSize: number): number[] {
  if (range.end <= range.start) return [];
  const first = Math.floor(range.start / pageSize);
  const last = Math.floor((range.end - 1) / pageSize);
  const pages: number[] = [];
  for (let p = first; p <= last; p++) pages.push(p);
  return pages;
}
