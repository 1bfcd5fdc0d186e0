import { test } from "node:test";
import assert from "node:assert/strict";
import { flattenPage, normalizeDateTime } from "../src/sync/flatten.ts";

test("normalizeDateTime() turns any offset into UTC ending in Z", () => {
  assert.equal(normalizeDateTime("2023-08-17T15:50:18+00:00"), "2023-08-17T15:50:18Z");
  assert.equal(normalizeDateTime("2023-08-17T15:50:18+02:00"), "2023-08-17T13:50:18Z");
  assert.equal(normalizeDateTime("2023-08-17T15:50:18.250-0130"), "2023-08-17T17:20:18.250Z");
  assert.equal(normalizeDateTime("9999-12-31T00:00:00+00:00"), "9999-12-31T00:00:00Z");
  assert.equal(normalizeDateTime("2023-08-17"), null);
  assert.equal(normalizeDateTime("1500"), null);
  assert.equal(normalizeDateTime("not 2023-08-17T15:50:18Z"), null);
});

test("flattenPage() flattens nested objects with _ and keeps the original case", () => {
  const page = flattenPage([{
    id: "a",
    businessAddress: { city: "Oslo", line2: null, geo: { lat: 59.9 } },
    customFields: { user6: "1500" },
    isPrivate: true,
    contacts: [{ id: "x" }],
    edited: "2023-08-17T15:50:18+00:00",
    probability: 40,
  }]);
  assert.deepEqual(page.rows[0], {
    id: "a",
    businessAddress_city: "Oslo",
    businessAddress_line2: null,
    businessAddress_geo_lat: 59.9,
    customFields_user6: "1500",
    isPrivate: true,
    contacts: '[{"id":"x"}]',
    edited: "2023-08-17T15:50:18Z",
    probability: 40,
  });
  assert.equal(page.types.get("businessAddress_geo_lat"), "real");
  assert.equal(page.types.get("customFields_user6"), "text");
  assert.equal(page.types.get("isPrivate"), "boolean");
  assert.equal(page.types.get("contacts"), "json");
  assert.equal(page.types.get("edited"), "datetime");
  assert.equal(page.types.get("probability"), "integer");
  assert.equal(page.types.has("businessAddress_line2"), false, "null values carry no type");
});

test("flattenPage() widens a column's type across the page and keeps the last duplicate id", () => {
  const page = flattenPage([
    { id: "a", n: 1, mixed: true },
    { id: "b", n: 1.5, mixed: "yes" },
    { id: "a", n: 2, mixed: false },
  ]);
  assert.equal(page.types.get("n"), "real");
  assert.equal(page.types.get("mixed"), "text");
  assert.deepEqual(page.rows.map((r) => [r.id, r.n]), [["a", 2], ["b", 1.5]]);
});

test("flattenPage() turns integer ids into text and refuses a record without id", () => {
  const page = flattenPage([{ id: 7, name: "Call" }]);
  assert.equal(page.rows[0].id, "7");
  assert.throws(() => flattenPage([{ name: "no id" }]), /Record has no usable 'id'/);
});
