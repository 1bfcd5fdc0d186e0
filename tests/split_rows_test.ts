// The byte splitter and exact-number JSON (src/act/split_rows.ts, src/act/exact_json.ts) against
// JSON.parse: seeded fuzz, whitespace JSON does not allow, numbers no double holds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { UnparsedRow } from "../src/act/body_errors.ts";
import { parseExactJson } from "../src/act/exact_json.ts";
import { parseListBody, parseListBytes } from "../src/act/response_body.ts";
import { flattenPage } from "../src/sync/flatten.ts";
import { fuzzSplit } from "../scripts/fuzz_split.ts";

const encoder = new TextEncoder();

test("the byte splitter reads 3,000 generated bodies (valid and subtly broken) as JSON.parse does", () => {
  // A fixed seed and a small count in the gate; scripts/fuzz_split.ts runs many more.
  const mismatches = fuzzSplit(20261207, 3000);
  assert.deepEqual(mismatches.slice(0, 3), []);
});

test("parseListBytes() refuses a body wrapped in whitespace JSON does not allow, like JSON.parse", () => {
  const body = '{"value":[{"id":"a"}]}';
  for (const space of ["\u00a0", "\f", "\v", "\ufeff", "\u2028", "\u3000", "\u0085"]) {
    // A leading U+FEFF is a byte order mark, dropped when the body is decoded.
    const texts = [body + space, `\ufeff${space}${body}`];
    if (space !== "\ufeff") texts.push(space + body);
    for (const text of texts) {
      assert.throws(() => JSON.parse(text), SyntaxError);
      assert.throws(
        () => parseListBytes(encoder.encode(text), "application/json"),
        /invalid or truncated JSON/,
        JSON.stringify(text),
      );
      assert.throws(() => parseListBody(text, "application/json"), /invalid or truncated JSON/);
    }
  }
  // JSON's own whitespace, and one leading byte order mark, are fine.
  for (const text of [` \t\r\n${body}\n`, `\ufeff${body}`]) {
    assert.deepEqual(parseListBytes(encoder.encode(text), null).rows, [{ id: "a" }]);
  }
});

test("parseExactJson() keeps every number exactly, in arrays too", () => {
  assert.deepEqual(parseExactJson("[12345678901234567e0]"), [12345678901234567n]);
  assert.deepEqual(parseExactJson("[1.2345678901234567e16]"), [12345678901234567n]);
  assert.deepEqual(parseExactJson("[0.1, 1e5, 1.5e300, -0]"), [0.1, 1e5, 1.5e300, -0]);
  const page = flattenPage(
    parseListBody(
      '[{"id":"a","n":12345678901234567e0,"list":[1e400,12345678901234567890,' +
        '1.00000000000000000001,{"x":-12345678901234567e0}],"small":[1,2.5]}]',
      null,
    ).rows,
  );
  assert.equal(page.rows[0].n, 12345678901234567n);
  assert.equal(page.types.get("n"), "integer");
  assert.equal(
    page.rows[0].list,
    '[1e400,12345678901234567890,1.00000000000000000001,{"x":-12345678901234567}]',
  );
  assert.equal(page.rows[0].small, "[1,2.5]");
});

test("a row that is not JSON but shows its id stands as an UnparsedRow; one without an id breaks the page", () => {
  const rows = parseListBytes(
    encoder.encode('[{"id":"a"},{"x":{"id":"no"},"id":"b\\"c","n":tru},{"id":"d"}]'),
    null,
  ).rows;
  assert.deepEqual(rows[0], { id: "a" });
  assert.ok(rows[1] instanceof UnparsedRow);
  assert.equal((rows[1] as unknown as UnparsedRow).id, 'b"c');
  assert.equal((rows[1] as unknown as UnparsedRow).raw, '{"x":{"id":"no"},"id":"b\\"c","n":tru}');
  assert.throws(
    () => parseListBytes(encoder.encode('[{"id":"a"},{"id":x"bad"}]'), null),
    /invalid or truncated JSON/,
  );
  // Every row unreadable: a broken response, not bad records.
  assert.throws(
    () => parseListBytes(encoder.encode('[{"id":"a",x},{"id":"b",y}]'), null),
    /invalid or truncated JSON/,
  );
});
