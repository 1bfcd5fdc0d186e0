// The loss-free scans of src/sync/scan.ts on their own, against the simulator: the completeness
// rule at every page cap, the id-prefix scan (exclusion, prefix split) and the offset scan
// (overlap, restarts, fallbacks), and messages that survive exact big integers.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../src/core/log.ts";
import { openSqliteSink } from "../src/sink/sqlite.ts";
import { readState } from "../src/state/mod.ts";
import { syncTables } from "../src/sync/engine.ts";
import {
  asText,
  Completeness,
  MAX_PROBES,
  MAX_RESTARTS,
  type Row,
  scanByOffset,
  scanByPrefix,
} from "../src/sync/scan.ts";
import type { OdataQuery } from "../src/act/odata.ts";
import { type SimulatorOptions, startSimulator } from "../src/simulator/mod.ts";
import { simulatorClient, tempDir } from "./_helpers.ts";

const dir = tempDir("act-sync-scan-");
after(() => rmSync(dir, { recursive: true, force: true }));

/** A simulator, its contacts' requests (filters seen) and a scan's base options. */
async function harness(options: SimulatorOptions) {
  const running = await startSimulator({ seed: 3, ...options });
  const client = simulatorClient(running.url);
  const queries: URLSearchParams[] = [];
  running.sim.onRequest((info) => queries.push(info.query));
  const list = async (query: OdataQuery): Promise<Row[]> =>
    (await client.list("/api/contacts", query)).rows;
  return {
    sim: running.sim,
    queries,
    list,
    /** Options of a scan whose tracker has seen a response of `seen` rows (as callers' have). */
    base(top: number, seen = 0, completeness = new Completeness(top)) {
      completeness.see(seen);
      return { list, path: "/api/contacts", top, completeness, who: "Test scan" };
    },
    ids: () => running.sim.rows("contacts").map((r) => String(r.id)).sort(),
    close: () => running.close(),
  };
}

describe("Completeness", () => {
  for (const cap of [1, 2, 25, null]) {
    test(`a response is complete only when empty, smaller than one seen, or a probe shows no cap (cap ${cap})`, async () => {
      const h = await harness({ counts: { contacts: 60 }, switches: { pageCap: cap } });
      try {
        let probes = 0;
        const c = new Completeness(50, async (top) => {
          probes++;
          return (await h.list({ top })).length;
        });
        assert.equal(c.complete(0), true, "an empty response");
        const first = await h.list({ top: 50 });
        assert.equal(first.length, cap ?? 50);
        // A response as big as any seen may have been capped; a probe for one more row says so.
        assert.equal(await c.completeAfterProbe(first.length), false);
        assert.equal(probes, cap === null ? 0 : 1, "a full $top is never probed");
        assert.equal(c.largest, first.length);
        if (first.length >= 2) assert.equal(c.complete(first.length - 1), true, "smaller");
        assert.equal(c.complete(first.length), false, "as big as the largest");
        // Probes stop at MAX_PROBES.
        for (let i = 0; i < MAX_PROBES + 2; i++) await c.completeAfterProbe(first.length);
        assert.equal(probes, cap === null ? 0 : MAX_PROBES);
      } finally {
        await h.close();
      }
    });
  }

  test("a short response from a server without a cap is complete after one probe", async () => {
    const h = await harness({ counts: { contacts: 60 } });
    try {
      const c = new Completeness(50, async (top) => (await h.list({ top })).length);
      const id = h.ids()[0];
      const rows = await h.list({ filter: `id eq '${id}'`, top: 50 });
      assert.equal(rows.length, 1);
      assert.equal(await c.completeAfterProbe(1), true);
      assert.equal(c.largest, 2);
      // Without a probe the same answer proves nothing.
      assert.equal(await new Completeness(50).completeAfterProbe(1), false);
    } finally {
      await h.close();
    }
  });
});

describe("scanByPrefix()", () => {
  const cases: [top: number, cap: number | null][] = [[50, 1], [50, 2], [50, 25], [1, null]];
  for (const [top, cap] of cases) {
    test(`reads every id at $top ${top} under a cap of ${cap}, excluding ids read`, async () => {
      const h = await harness({ counts: { contacts: 40 }, switches: { pageCap: cap } });
      try {
        const read: string[] = [];
        await scanByPrefix({
          ...h.base(top),
          onRows: (rows) => void read.push(...rows.map((r) => String(r.id))),
        });
        assert.deepEqual([...new Set(read)].sort(), h.ids());
        const filters = h.queries.map((q) => q.get("$filter") ?? "");
        assert.ok(filters.some((f) => f.includes(" and id ne '")), "small parts are excluded");
        assert.ok(h.queries.length < 400, `${h.queries.length} requests`);
      } finally {
        await h.close();
      }
    });
  }

  for (const cap of [1, 2]) {
    test(`reads every id under a cap of ${cap} from a server that rejects 'ne': by prefix alone`, async () => {
      const h = await harness({
        counts: { contacts: 40 },
        switches: { pageCap: cap, neFilter: false },
      });
      try {
        const read: string[] = [];
        await scanByPrefix({
          ...h.base(50),
          onRows: (rows) => void read.push(...rows.map((r) => String(r.id))),
        });
        assert.deepEqual([...new Set(read)].sort(), h.ids());
        const filters = h.queries.map((q) => q.get("$filter") ?? "");
        assert.equal(filters.filter((f) => f.includes(" ne ")).length, 1, "one refused exclusion");
        assert.ok(h.queries.length < 20_000, `${h.queries.length} requests`);
      } finally {
        await h.close();
      }
    });
  }

  test("splits a part with more ids than it may exclude into longer prefixes", async () => {
    const h = await harness({ counts: { contacts: 0 }, switches: { pageCap: 3 } });
    try {
      const base = "12345678-aaaa-4bbb-8ccc-";
      for (let i = 0; i < 30; i++) {
        h.sim.insert("contacts", { id: `${base}${String(i).padStart(12, "0")}` });
      }
      const read = new Set<string>();
      await scanByPrefix({
        ...h.base(50),
        onRows: (rows) => rows.forEach((r) => read.add(String(r.id))),
      });
      assert.deepEqual([...read].sort(), h.ids());
      const filters = h.queries.map((q) => q.get("$filter") ?? "");
      assert.ok(filters.some((f) => f.startsWith(`startswith(id,'${base}00000000001')`)));
      // Never more than 20 ids excluded in one request.
      assert.ok(filters.every((f) => f.split(" and id ne ").length - 1 <= 20));
    } finally {
      await h.close();
    }
  });

  test("a row outside the part stops the scan with its id, big integers included", async () => {
    const h = await harness({ counts: { contacts: 5 }, switches: { oddFields: true } });
    try {
      // Served as the bare number 12345678901234567890: the client keeps it as a BigInt.
      h.sim.insert("contacts", { id: "\u0000raw:12345678901234567890", lastName: "Big" });
      const scan = scanByPrefix({
        ...h.base(50),
        base: "lastName eq 'Big'",
        known: ["00000000-0000-0000-0000-000000000000"],
        matches: (row) => typeof row.id === "string",
        onRows: () => {},
      });
      await assert.rejects(scan, {
        message: "The server ignored $filter on /api/contacts: asked for ids starting '' " +
          `except 1 already read, got "12345678901234567890"`,
      });
    } finally {
      await h.close();
    }
  });
});

describe("scanByOffset()", () => {
  for (const cap of [1, 2, 25]) {
    test(`reads every id by offset pages ordered by id under a cap of ${cap}`, async () => {
      const h = await harness({ counts: { contacts: 30 }, switches: { pageCap: cap } });
      try {
        const completeness = new Completeness(50);
        const first = await h.list({ orderby: "id asc", top: 50 });
        completeness.see(first.length);
        const read = first.map((r) => String(r.id));
        await scanByOffset({
          ...h.base(50, 0, completeness),
          ordered: true,
          first,
          onRows: (rows) => void read.push(...rows.map((r) => String(r.id))),
        });
        // Each id once, in order: the overlap row is not handed on again.
        assert.deepEqual(read, h.ids());
      } finally {
        await h.close();
      }
    });
  }

  test("starts again when rows before the overlap row are deleted meanwhile", async () => {
    const h = await harness({ counts: { contacts: 30 } });
    try {
      const restarts: string[] = [];
      let read = new Set<string>();
      let pages = 0;
      await scanByOffset({
        ...h.base(10, 10),
        ordered: true,
        onRows: (rows) => {
          rows.forEach((r) => read.add(String(r.id)));
          if (++pages === 2) h.sim.remove("contacts", String(rows[0].id));
        },
        onRestart: (reason) => {
          restarts.push(reason);
          read = new Set();
        },
      });
      assert.deepEqual(restarts, ["shifted"]);
      assert.deepEqual([...read].sort(), h.ids());
    } finally {
      await h.close();
    }
  });

  test("rows that keep shifting stop the scan after MAX_RESTARTS restarts", async () => {
    const h = await harness({ counts: { contacts: 200 } });
    try {
      let restarts = 0;
      const scan = scanByOffset({
        ...h.base(10, 10),
        ordered: true,
        onRows: (rows) => void h.sim.remove("contacts", String(rows[0].id)),
        onRestart: () => void restarts++,
      });
      await assert.rejects(scan, {
        message: "Test scan is not advancing: rows of /api/contacts keep shifting",
      });
      assert.equal(restarts, MAX_RESTARTS);
    } finally {
      await h.close();
    }
  });

  test("a server that rejects $orderby=id is read without order; one that ignores $skip stops", async () => {
    const h = await harness({ counts: { contacts: 30 } });
    try {
      h.sim.inject({ kind: "status", status: 400, path: "/api/contacts" });
      const reasons: string[] = [];
      const read = new Set<string>();
      await scanByOffset({
        ...h.base(10),
        ordered: true,
        onRows: (rows) => rows.forEach((r) => read.add(String(r.id))),
        onRestart: (reason) => void reasons.push(reason),
      });
      assert.deepEqual(reasons, ["unordered"]);
      assert.deepEqual([...read].sort(), h.ids());
      assert.equal(h.queries.at(-1)!.get("$orderby"), null);

      h.sim.switches.ignoreSkip = true;
      await assert.rejects(
        scanByOffset({ ...h.base(10), ordered: false, onRows: () => {} }),
        /Test scan is not advancing: \/api\/contacts returned the same page for \$skip=10/,
      );
    } finally {
      await h.close();
    }
  });
});

test("asText() writes exact big integers as their digits", () => {
  assert.equal(asText({ id: 2n ** 60n, n: [1] }), `{"id":"1152921504606846976","n":[1]}`);
  assert.equal(asText(undefined), "undefined");
  assert.equal(asText("x".repeat(300)).length, 200);
});

test("a record with a big integer id and an invalid 'edited' is kept in _act_rejected exactly", async () => {
  const running = await startSimulator({
    counts: { contacts: 5 },
    seed: 3,
    switches: { oddFields: true }, // writes "\u0000raw:" values into the JSON as they are
  });
  const sink = await openSqliteSink(join(dir, "big.db"));
  try {
    // Hour 24: the simulator's filter reads it (Date.parse), act-sync's strict check refuses it.
    // Its id is the bare number 12345678901234567890, kept by the client as a BigInt.
    running.sim.insert("contacts", {
      id: "\u0000raw:12345678901234567890",
      edited: "2099-01-01T24:00:00Z",
    });
    const result = await syncTables(readState(join(dir, "none.json")), {
      tables: ["contacts"],
      batchSize: 50,
      lookbackSeconds: 60,
      defaultStartDate: "1900-01-01T00:00:00Z",
    }, {
      source: simulatorClient(running.url),
      sink,
      logger: silentLogger(),
      now: Date.now,
      saveState: () => {},
    });
    assert.equal(result.tables[0].status, "ok", result.tables[0].error ?? "");
    const [kept] = await sink.rejected();
    assert.equal(kept.id, "12345678901234567890");
    assert.equal(kept.reason, `'edited' is not a valid date-time: got "2099-01-01T24:00:00Z"`);
    assert.match(kept.raw, /^\{"id":12345678901234567890,/);
  } finally {
    await sink.close();
    await running.close();
  }
});
