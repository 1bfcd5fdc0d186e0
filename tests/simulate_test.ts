import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseSimulateArgs } from "../src/cli/simulate.ts";
import { UsageError } from "../src/core/errors.ts";
import { defaultSwitches } from "../src/simulator/mod.ts";

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

  test("every simulator switch has a flag", () => {
    const o = parseSimulateArgs([
      "--envelope=array",
      "--page-cap=5",
      "--default-page-size=5",
      "--multi-key-orderby",
      "--stable-order",
      "--activity-types",
      "--products-edited",
      "--offsetless-dates",
      "--odd-fields",
      "--no-products-filter",
      "--no-ne-filter",
      "--no-groups-edited",
      "--users-odata",
      "--no-history-format",
      "--no-line-items-bump",
      "--line-items-upper-key",
      "--sub-list-cap=2",
      "--lookups-page-cap=3",
      "--token-lifetime=60",
      "--token-max-requests=9",
      "--clock-skew=1",
      "--stamp-skew=1",
      "--date-jump-to=2100-01-01T00:00:00Z",
      "--no-date-header",
      "--latency=1",
      "--rate-limit=9",
      "--ignore-skip",
      "--echo-credentials",
      "--fault-rate=0.5",
      "--no-notes-odata",
      "--no-notes-format",
      "--custom-entities=Projects, Site Inspections",
      "--no-custom-metadata",
      "--date-shape=mixed",
      "--system-spelling=pascal",
      "--html-password",
      "--act-error=4031:500",
      "--metadata-empty=contact",
      "--metadata-alternate",
      "--docs-forbidden",
      "--lookups-missing=teams,history_types",
      "--teams-embed-members",
      "--poison=abc=deep,d=e=not-json",
    ]);
    const defaults = defaultSwitches();
    assert.deepEqual(Object.keys(o.switches ?? {}).sort(), Object.keys(defaults).sort());
    for (const [key, value] of Object.entries(o.switches ?? {})) {
      assert.notDeepEqual(value, defaults[key as keyof typeof defaults], key);
    }
    assert.equal(o.switches?.groupsEdited, false);
    assert.equal(o.switches?.usersOdata, true);
    assert.equal(o.switches?.historyFormat, false);
    assert.equal(o.switches?.lineItemsBumpOpportunity, false);
    assert.equal(o.switches?.notesOdata, false);
    assert.deepEqual(o.switches?.customEntities, ["Projects", "Site Inspections"]);
    assert.equal(o.switches?.customMetadata, false);
    assert.deepEqual(o.switches?.actError, { code: 4031, status: 500 });
    assert.equal(parseSimulateArgs(["--act-error=4032"]).switches?.actError?.status, 403);
    assert.throws(() => parseSimulateArgs(["--act-error=4030"]), /'--act-error' must be/);
    assert.throws(() => parseSimulateArgs(["--date-shape=x"]), /'--date-shape' must be one of/);
    assert.deepEqual(o.switches?.metadataEmpty, ["contact"]);
    assert.deepEqual(o.switches?.lookupsMissing, ["teams", "history_types"]);
    assert.deepEqual(o.switches?.poison, { abc: "deep", "d=e": "not-json" });
    assert.throws(() => parseSimulateArgs(["--poison=x=bad"]), /'--poison' must be a list/);
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
    assert.throws(() => parseSimulateArgs(["--nope"]), {
      name: "UsageError",
      message: 'Unknown flag for this command: "--nope"',
    });
    assert.throws(() => parseSimulateArgs(["--stamp-skw", "5"]), /did you mean "--stamp-skew"\?/);
    assert.throws(() => parseSimulateArgs(["--date-jump-to", "2100-01-01"]), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /'--date-jump-to' must be an ISO-8601 date-time with a zone/);
      return true;
    });
    assert.throws(() => parseSimulateArgs(["--stamp-skew", "ahead"]), /'--stamp-skew'/);
  });
});
