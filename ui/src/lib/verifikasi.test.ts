import { describe, expect, it } from "vitest";
import { keepPresent, nextIndex, selectSeen, shortcut, toggleSelection } from "./verifikasi";
import { pagesFor, visibleRange } from "./virtual";

describe("shortcut", () => {
  it("maps J, K, A, R, Z", () => {
    expect(shortcut({ key: "j" })).toBe("next");
    expect(shortcut({ key: "K" })).toBe("previous");
    expect(shortcut({ key: "a" })).toBe("approve");
    expect(shortcut({ key: "r" })).toBe("reject");
    expect(shortcut({ key: "z" })).toBe("undo");
    expect(shortcut({ key: "x" })).toBeNull();
  });
  it("stays out of the way while typing or with modifiers", () => {
    expect(shortcut({ key: "a", target: { tagName: "TEXTAREA" } })).toBeNull();
    expect(shortcut({ key: "r", ctrlKey: true })).toBeNull();
  });
});

describe("nextIndex", () => {
  it("stays within the queue", () => {
    expect(nextIndex(0, 3, "previous")).toBe(0);
    expect(nextIndex(2, 3, "next")).toBe(2);
    expect(nextIndex(1, 3, "next")).toBe(2);
    expect(nextIndex(0, 0, "next")).toBe(0);
  });
});

describe("visibleRange", () => {
  it("renders only what is on screen plus overscan", () => {
    expect(visibleRange(0, 400, 40, 100_000, 5)).toEqual({ start: 0, end: 16 });
    expect(visibleRange(40 * 50_000, 400, 40, 100_000, 5)).toEqual({ start: 49_995, end: 50_016 });
    expect(visibleRange(40 * 99_999, 400, 40, 100_000, 5)).toEqual({ start: 99_994, end: 100_000 });
  });
  it("handles empty tables", () => {
    expect(visibleRange(0, 400, 40, 0)).toEqual({ start: 0, end: 0 });
  });
});

describe("pagesFor", () => {
  it("asks for the pages a range touches", () => {
    expect(pagesFor({ start: 95, end: 205 }, 100)).toEqual([0, 1, 2]);
    expect(pagesFor({ start: 0, end: 0 }, 100)).toEqual([]);
  });
});

describe("selection for a bulk decision", () => {
  const rows = [
    { id: "a", selectable: true },
    { id: "b", selectable: true },
    { id: "c", selectable: false },
    { id: "d", selectable: true },
  ];
  it("toggles one row, never a row whose letter was not opened", () => {
    const one = toggleSelection(new Set(), rows, 1, null, false);
    expect([...one]).toEqual(["b"]);
    expect([...toggleSelection(one, rows, 1, null, false)]).toEqual([]);
    expect([...toggleSelection(new Set(), rows, 2, null, false)]).toEqual([]);
  });
  it("shift-click selects the selectable rows between the two clicks, in both directions", () => {
    expect([...toggleSelection(new Set(["a"]), rows, 3, 0, true)].sort()).toEqual(["a", "b", "d"]);
    expect([...toggleSelection(new Set(), rows, 0, 3, true)].sort()).toEqual(["a", "b", "d"]);
    expect([...toggleSelection(new Set(["a", "b", "d"]), rows, 3, 1, true)]).toEqual(["a"]);
    expect([...toggleSelection(new Set(), rows, 3, 0, false)]).toEqual(["d"]);
  });
  it("selects every opened letter, and forgets requests that left the list", () => {
    expect([...selectSeen(rows)]).toEqual(["a", "b", "d"]);
    expect([...keepPresent(new Set(["a", "x", "c"]), rows)]).toEqual(["a"]);
  });
});
