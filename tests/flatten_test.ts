import { test } from "node:test";
import assert from "node:assert/strict";
import { parseListBody } from "../src/act/response_body.ts";
import { flattenPage, MAX_DEPTH } from "../src/sync/flatten.ts";
import { plainName } from "../src/sink/sink.ts";

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
  // Rows are keyed by source path; plainName() gives the column a path gets when nothing collides.
  assert.deepEqual(page.rows[0], {
    id: "a",
    "businessAddress/city": "Oslo",
    "businessAddress/line2": null,
    "businessAddress/geo/lat": 59.9,
    "customFields/user6": "1500",
    isPrivate: true,
    contacts: '[{"id":"x"}]',
    edited: "2023-08-17T15:50:18Z",
    probability: 40,
  });
  assert.deepEqual(
    Object.keys(page.rows[0]).map(plainName),
    Object.keys(page.rows[0]).map((k) => k.replaceAll("/", "_")),
  );
  assert.equal(page.types.get("businessAddress/geo/lat"), "real");
  assert.equal(page.types.get("customFields/user6"), "text");
  assert.equal(page.types.get("isPrivate"), "boolean");
  assert.equal(page.types.get("contacts"), "json");
  assert.equal(page.types.get("edited"), "datetime");
  assert.equal(page.types.get("probability"), "integer");
  assert.equal(page.types.has("businessAddress/line2"), false, "null values carry no type");
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

test("flattenPage() keeps source fields apart that flatten to the same name", () => {
  const page = flattenPage([{
    id: "a",
    zz: { yy: 1 },
    zz_yy: 2,
    "a/b": 3,
    a: { b: 4 },
    "n\0l": 5,
  }]);
  assert.equal(page.rows[0]["zz/yy"], 1);
  assert.equal(page.rows[0].zz_yy, 2);
  assert.equal(page.rows[0]["a~1b"], 3);
  assert.equal(page.rows[0]["a/b"], 4);
  assert.equal(page.rows[0]["n~2l"], 5);
  assert.equal(plainName("zz/yy"), plainName("zz_yy"), "same plain name: the sink disambiguates");
  assert.equal(plainName("n~2l"), "nl");
});

test("flattenPage() fails a record nested too deep naming table, id and field path", () => {
  let deep: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < 100_000; i++) deep = { a: deep };
  assert.throws(
    () => flattenPage([{ id: "r1", ok: 1 }, { id: "r2", deep }], { table: "contacts" }),
    (error: Error) => {
      assert.match(
        error.message,
        /^Cannot store record "r2" of table "contacts": field "deep\/a\/a/,
      );
      assert.match(error.message, new RegExp(`nested more than ${MAX_DEPTH} levels deep$`));
      return true;
    },
  );
});

test("parseListBody() and flattenPage() keep integers beyond 2^53, 1e400 and int64 overflow exactly", () => {
  const body = '{"value":[{"id":9007199254740993,"n":9007199254740993,"inf":1e400,"tiny":1e-400,' +
    '"huge":99999999999999999999,"s":"x:12345678901234567890","small":42,"f":[9007199254740993]},' +
    '{"id":9007199254740992,"n":1}]}';
  const { rows } = parseListBody(body, "application/json");
  const page = flattenPage(rows);
  assert.deepEqual(page.rows.map((r) => r.id), ["9007199254740993", "9007199254740992"]);
  assert.equal(page.rows[0].n, 9007199254740993n);
  assert.equal(page.types.get("n"), "integer");
  assert.equal(page.rows[0].inf, "1e400");
  assert.equal(page.rows[0].tiny, "1e-400");
  assert.equal(page.rows[0].huge, "99999999999999999999");
  assert.equal(page.types.get("huge"), "text");
  assert.equal(page.rows[0].s, "x:12345678901234567890");
  assert.equal(page.rows[0].small, 42);
  assert.equal(page.rows[0].f, "[9007199254740993]");
});
