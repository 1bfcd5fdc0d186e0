// The fast paths of a first sync give what the general paths give: a date-time already in UTC is
// normalised without a Date exactly as through parseDateTimeParts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { normalizeDateTime } from "../src/sync/flatten.ts";
import { parseDateTimeParts } from "../src/core/time.ts";

/** The general path: parse, then print as UTC ending in `Z`. */
function general(text: string): string | null {
  const parts = parseDateTimeParts(text);
  if (parts === null) return null;
  const iso = new Date(parts.ms).toISOString();
  if (iso.length !== 24) return null;
  return iso.slice(0, 19) + (parts.fraction ? `.${parts.fraction}` : "") + "Z";
}

test("a UTC date-time is normalised as the general path does, valid or not", () => {
  const days = ["01", "28", "29", "30", "31", "00", "32"];
  const months = ["01", "02", "04", "12", "00", "13"];
  const years = ["0000", "1900", "2000", "2023", "2024", "9999"];
  const times = ["00:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60"];
  const tails = ["+00:00", "Z", ".5Z", ".1234567+00:00", ".0000001Z", "z", "+01:00", "-00:00", ""];
  let checked = 0;
  for (const year of years) {
    for (const month of months) {
      for (const day of days) {
        for (const time of times) {
          for (const tail of tails) {
            for (const sep of ["T", " "]) {
              const text = `${year}-${month}-${day}${sep}${time}${tail}`;
              assert.equal(normalizeDateTime(text), general(text), text);
              checked++;
            }
          }
        }
      }
    }
  }
  assert.equal(checked, 6 * 6 * 7 * 5 * 9 * 2);
  for (const text of ["2024-02-29T10:00:00+00:00x", "2024-2-29T10:00:00Z", "not a date at all"]) {
    assert.equal(normalizeDateTime(text), general(text), text);
  }
  assert.equal(normalizeDateTime("2024-02-29T10:00:00+00:00"), "2024-02-29T10:00:00Z");
  assert.equal(normalizeDateTime("2023-02-29T10:00:00+00:00"), null);
});
