import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseSimulateArgs } from "../src/cli/simulate.ts";
import { UsageError } from "../src/core/errors.ts";

describe("parseSimulateArgs()", () => {
  test("reads flags into options and switches", () => {
    const o = parseSimulateArgs([
      "--port",
      "9000",
      "--records",
      "50",
      "--seed",
      "3",
      "--username",
      "John Hollo",
      "--page-cap",
      "100",
      "--multi-key-orderby",
      "--stable-order",
      "--activity-types",
      "--products-edited",
      "--no-products-filter",
      "--token-lifetime",
      "none",
      "--clock-skew=-30",
      "--stamp-skew=600",
      "--date-jump-to",
      "2100-01-01T00:00:00Z",
      "--latency",
      "5",
      "--fault-rate",
      "0.1",
      "--envelope",
      "contacts=array,products=value",
    ]);
    assert.equal(o.port, 9000);
    assert.equal(o.records, 50);
    assert.equal(o.username, "John Hollo");
    assert.deepEqual(o.switches, {
      envelope: { contacts: "array", products: "value" },
      pageCap: 100,
      multiKeyOrderBy: true,
      unstableOrder: false,
      activityTypes: true,
      productsEdited: true,
      productsFilter: false,
      tokenLifetimeSeconds: null,
      clockSkewSeconds: -30,
      stampSkewSeconds: 600,
      dateJumpTo: Date.UTC(2100, 0, 1),
      latencyMs: 5,
      randomFaults: {
        rate: 0.1,
        kinds: ["status", "rate-limit", "malformed", "truncated", "html", "object", "expire-token"],
      },
    });
    assert.equal(parseSimulateArgs([]).port, 8790);
  });

  test("bad flags and values are UsageErrors naming the flag and value", () => {
    assert.throws(() => parseSimulateArgs(["--port", "70000"]), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(
        e.message,
        /'--port' must be an integer between 0 and 65535: current value is "70000"/,
      );
      return true;
    });
    assert.throws(() => parseSimulateArgs(["--fault-rate", "2"]), UsageError);
    assert.throws(() => parseSimulateArgs(["--envelope", "bogus"]), UsageError);
    assert.throws(() => parseSimulateArgs(["--nope"]), UsageError);
    assert.throws(() => parseSimulateArgs(["--date-jump-to", "2100-01-01"]), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /'--date-jump-to' must be an ISO-8601 date-time with a zone/);
      return true;
    });
    assert.throws(() => parseSimulateArgs(["--stamp-skew", "ahead"]), /'--stamp-skew'/);
  });
});
