import { describe, expect, it } from "vitest";
import { pagesFor, visibleRange } from "./virtual";

describe("visibleRange", () => {
  it("draws the rows in view plus the overscan, never past the ends", () => {
    // 30 px rows, a 300 px viewport scrolled to row 100 of 10,000.
    expect(visibleRange(3000, 300, 30, 10_000, 8)).toEqual({ start: 92, end: 119 });
    // At the top nothing is drawn above row 0; at the bottom nothing past the last row.
    expect(visibleRange(0, 300, 30, 10_000, 8)).toEqual({ start: 0, end: 19 });
    expect(visibleRange(299_700, 300, 30, 10_000, 8)).toEqual({ start: 9982, end: 10_000 });
  });

  it("draws nothing for an empty table or a zero row height", () => {
    expect(visibleRange(0, 300, 30, 0)).toEqual({ start: 0, end: 0 });
    expect(visibleRange(0, 300, 0, 50)).toEqual({ start: 0, end: 0 });
  });

  it("treats a negative scroll (elastic overscroll) as the top", () => {
    expect(visibleRange(-40, 300, 30, 100, 0)).toEqual({ start: 0, end: 11 });
  });
});

describe("pagesFor", () => {
  it("names every page a range touches", () => {
    expect(pagesFor({ start: 92, end: 119 }, 100)).toEqual([0, 1]);
    expect(pagesFor({ start: 0, end: 100 }, 100)).toEqual([0]);
    expect(pagesFor({ start: 100, end: 101 }, 100)).toEqual([1]);
  });

  it("needs no page for an empty range", () => {
    expect(pagesFor({ start: 5, end: 5 }, 100)).toEqual([]);
  });
});
