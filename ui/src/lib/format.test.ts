import { describe, expect, it } from "vitest";
import { groupNik, maskNik, nikStillTyping, tanggalIndonesia } from "./format";

describe("groupNik", () => {
  it("groups 16 digits in fours", () => {
    expect(groupNik("3171011201900001")).toBe("3171 0112 0190 0001");
  });
  it("ignores spaces already typed", () => {
    expect(groupNik("3171 011201900001")).toBe("3171 0112 0190 0001");
  });
});

describe("maskNik", () => {
  it("shows only the last four digits", () => {
    expect(maskNik("3171011201900001")).toBe("•••• •••• •••• 0001");
  });
  it("never reveals a digit other than the last four", () => {
    const masked = maskNik("9876543210987654");
    expect(masked.replace(/[•\s]/g, "")).toBe("7654");
  });
});

describe("tanggalIndonesia", () => {
  it("writes the month in Indonesian", () => {
    expect(tanggalIndonesia("1990-01-12")).toBe("12 Januari 1990");
    expect(tanggalIndonesia("2005-08-17")).toBe("17 Agustus 2005");
  });
  it("leaves anything else as it is", () => {
    expect(tanggalIndonesia("kemarin")).toBe("kemarin");
    expect(tanggalIndonesia("2005-13-01")).toBe("2005-13-01");
  });
});

describe("nikStillTyping", () => {
  it("waits while only digits are typed and fewer than 16", () => {
    expect(nikStillTyping("3171 0112")).toBe(true);
    expect(nikStillTyping("")).toBe(true);
  });
  it("does not wait on letters or 16 digits", () => {
    expect(nikStillTyping("3171a")).toBe(false);
    expect(nikStillTyping("3171011201900001")).toBe(false);
  });
});
