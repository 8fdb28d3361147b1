import { describe, expect, it } from "vitest";
import { findMatches, found } from "./highlight";

const page = [
  "SURAT TUGAS",
  "Nomor: ST-12/KPPN.019/",
  "2026",
  "Nama : Drs. BUDI SANTOSO, M.M.",
  "NIK  : 3171 0112",
  " 0190 0001",
];

describe("findMatches", () => {
  it("finds a NIK split over items and spaced in fours", () => {
    const m = findMatches(page, { nik: "3171011201900001" });
    expect(m).toEqual([{ needle: "nik", items: [4, 5] }]);
  });

  it("finds a name regardless of case and spacing", () => {
    const m = findMatches(page, { name: "Budi Santoso" });
    expect(m).toEqual([{ needle: "name", items: [3] }]);
    expect(findMatches(page, { name: "budi  SANTOSO" })).toHaveLength(1);
  });

  it("finds a letter number broken across lines", () => {
    const m = findMatches(page, { letter_number: "st-12/kppn.019/2026" });
    expect(m).toEqual([{ needle: "letter_number", items: [1, 2] }]);
  });

  it("does not claim a partial NIK or another person", () => {
    expect(findMatches(page, { nik: "3171011201900002" })).toEqual([]);
    expect(findMatches(page, { nik: "0001" })).toEqual([]);
    expect(findMatches(page, { name: "Ahmad Fauzi" })).toEqual([]);
  });
});

describe("found", () => {
  it("summarises matches over pages", () => {
    const p1 = findMatches(page, { nik: "3171011201900001", name: "Ahmad" });
    const p2 = findMatches(["Ahmad Fauzi"], { name: "Ahmad Fauzi" });
    expect(found([p1, p2])).toEqual({ nik: true, name: true, letter_number: false });
  });
});
