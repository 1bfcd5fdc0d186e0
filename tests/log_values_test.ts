// No log field, of any value, may stop a log line from being written.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../src/core/log.ts";

function oddValues(): Record<string, unknown> {
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const shared = { n: 1 };
  return {
    undef: undefined,
    nul: null,
    sym: Symbol("tag"),
    big: 12345678901234567890n,
    nested: { big: 1n, sym: Symbol(), list: [undefined, 2n] },
    cyclic,
    twice: [shared, shared],
    fn: () => 1,
    nan: NaN,
    inf: -Infinity,
    date: new Date(Number.NaN),
    error: new TypeError("bad thing"),
    badString: {
      toString: () => {
        throw new Error("no toString");
      },
    },
    badJson: {
      toJSON: () => {
        throw new Error("no toJSON");
      },
    },
    getter: Object.defineProperty({}, "boom", {
      enumerable: true,
      get: () => {
        throw new Error("getter");
      },
    }),
    noProto: Object.assign(Object.create(null), { a: 1 }),
    deep: JSON.parse("[".repeat(100) + "]".repeat(100)),
  };
}

for (const format of ["text", "json"] as const) {
  test(`a ${format} log line is written whatever its field values are`, () => {
    const lines: string[] = [];
    const logger = createLogger({ format, write: (line) => lines.push(line) });
    const values = oddValues();
    for (const [key, value] of Object.entries(values)) {
      logger.info(`field ${key}`, { [key]: value });
    }
    logger.info("all at once", values);
    logger.info("no fields", undefined);
    assert.equal(lines.length, Object.keys(values).length + 2);
    const all = lines.at(-2)!;
    if (format === "json") {
      for (const line of lines) JSON.parse(line);
      const parsed = JSON.parse(all);
      assert.equal(parsed.big, "12345678901234567890");
      assert.equal(parsed.sym, "Symbol(tag)");
      assert.equal(parsed.cyclic.self, "[circular]");
      assert.equal(parsed.nul, null);
      assert.equal(parsed.getter.boom, "[unreadable]");
      assert.equal(parsed.error, "bad thing");
    } else {
      assert.match(all, /undef=undefined nul=null sym=Symbol\(tag\) big=12345678901234567890/);
      assert.match(all, /"self":"\[circular\]"/);
      assert.match(all, /error="bad thing"/);
    }
  });
}
