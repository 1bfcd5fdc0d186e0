import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { formatUtc, formatUtcForDisplay } from "../src/core/time.ts";

describe("formatUtc()", () => {
  test("formats whole seconds without milliseconds", () => {
    assert.equal(formatUtc(Date.UTC(2024, 0, 1)), "2024-01-01T00:00:00Z");
  });

  test("keeps non-zero milliseconds", () => {
    assert.equal(formatUtc(Date.UTC(2024, 0, 1, 12, 30, 5, 123)), "2024-01-01T12:30:05.123Z");
  });

  test("rejects an invalid time", () => {
    assert.throws(() => formatUtc(Number.NaN), RangeError);
  });

  test("for display: whole seconds and UTC spelt out", () => {
    assert.equal(
      formatUtcForDisplay(Date.UTC(2024, 0, 1, 12, 30, 5, 123)),
      "2024-01-01 12:30:05 UTC",
    );
  });
});
