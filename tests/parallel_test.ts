import { after, before, describe, postgresSkip, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../src/core/log.ts";
import { createFetch } from "../src/act/tls.ts";
import { openSink } from "../src/sink/mod.ts";
import { progressOf, readState } from "../src/state/mod.ts";
import type { EngineDeps, ProgressEvent, RunResult } from "../src/sync/engine.ts";
import { reconcileTables } from "../src/sync/reconcile.ts";
import type { TableName } from "../src/act/tables.ts";
import { type SimulatorOptions, startSimulator } from "../src/simulator/mod.ts";
import { assertMirrors, simulatorClient, sqliteRows, syncOnce, tempDir } from "./_helpers.ts";
import { TestDatabase } from "./_postgres.ts";

// Line items read several at a time (max_parallel_requests): the same rows as one at a time,
// under the simulator's faults, on both sinks; a stop ends every request in flight.

const dir = tempDir("act-sync-parallel-");
after(() => rmSync(dir, { recursive: true, force: true }));
const testDb = new TestDatabase("parallel", { max: 2 });
let counter = 0;

interface Dest {
  name: string;
  skip: string | false;
  url(n: number): string;
  rows(url: string, table: TableName): Promise<Map<string, Record<string, unknown>>>;
}

const destinations: Dest[] = [
  {
    name: "SQLite",
    skip: false,
    url: (n) => `sqlite:${join(dir, `p${n}.db`)}`,
    rows: (url, table) => Promise.resolve(sqliteRows(url.slice("sqlite:".length), table)),
  },
  {
    name: "PostgreSQL",
    skip: postgresSkip(),
    url: (n) => testDb.url(`schema=p${n}`),
    async rows(url, table) {
      const schema = new URL(url).searchParams.get("schema")!;
      const sql = await testDb.sql();
      const rows = await sql.unsafe(`SELECT * FROM "${schema}"."${table}" WHERE NOT _act_deleted`);
      return new Map(rows.map((r) => [String(r.id), { ...r }]));
    },
  },
];

const TABLES: TableName[] = ["opportunities", "opportunity_products", "users"];
const PARALLEL = 4;

async function setup(dest: Dest, options: SimulatorOptions = {}) {
  const running = await startSimulator({ records: 60, seed: 9, ...options });
  const url = dest.url(++counter);
  const statePath = join(dir, `state${counter}.json`);
  // Counts the requests in flight at once, as the server sees them.
  const flight = { now: 0, most: 0 };
  const real = createFetch();
  const client = simulatorClient(running.url, {
    maxParallel: PARALLEL,
    fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
      flight.most = Math.max(flight.most, ++flight.now);
      try {
        const response = await real(input, init);
        const body = await response.arrayBuffer();
        return new Response(body, { status: response.status, headers: response.headers });
      } finally {
        flight.now--;
      }
    }) as typeof fetch,
  });
  return {
    sim: running.sim,
    url,
    statePath,
    flight,
    client,
    async run(extra: Partial<EngineDeps> = {}): Promise<RunResult> {
      return await syncOnce(url, statePath, {
        tables: TABLES,
        batchSize: 20,
        lookbackSeconds: 0,
        source: client,
        maxParallelRequests: PARALLEL,
        ...extra,
      });
    },
    async mirrors() {
      for (const table of TABLES) {
        assertMirrors(table, running.sim.rows(table), await dest.rows(url, table));
      }
    },
    close: () => running.close(),
  };
}

function failures(result: RunResult): string[] {
  return result.tables.filter((t) => t.status !== "ok").map((t) => `${t.table}: ${t.error}`);
}

for (const dest of destinations) {
  describe(`parallel requests, ${dest.name}`, { skip: dest.skip }, () => {
    before(async () => {
      if (dest.name === "PostgreSQL") await testDb.sql();
    });
    after(async () => {
      if (dest.name === "PostgreSQL") await testDb.drop();
    });

    test("line items read 4 at a time under faults and tokens expiring every 3 requests match the simulator", async () => {
      const h = await setup(dest, { counts: { opportunities: 120 }, switches: { subListCap: 2 } });
      try {
        assert.deepEqual(failures(await h.run()), []);
        await h.mirrors();
        assert.ok(h.flight.most > 1, `${h.flight.most} requests in flight at most`);
        assert.ok(h.flight.most <= PARALLEL, `${h.flight.most} requests in flight at most`);
        // Changes, then runs under faults until one succeeds (bounded), then a clean one.
        const opps = h.sim.rows("opportunities").map((o) => String(o.id));
        const withItems = opps.filter((id) => (h.sim.lineItems.of(id) ?? []).length > 1);
        h.sim.lineItems.remove(withItems[0], String(h.sim.lineItems.of(withItems[0])![0].id));
        for (const id of withItems.slice(1, 30)) h.sim.lineItems.add(id);
        h.sim.remove("users", String(h.sim.rows("users")[0].id));
        h.sim.switches.tokenMaxRequests = 3;
        h.sim.switches.randomFaults = {
          rate: 0.05,
          kinds: ["status", "rate-limit", "malformed", "truncated", "html", "drop", "bad-row"],
          seed: 3,
        };
        let runs = 0;
        let last: string[] = ["no run"];
        for (; runs < 40 && last.length > 0; runs++) last = failures(await h.run());
        assert.deepEqual(last, [], `${runs} runs`);
        h.sim.switches.randomFaults = null;
        assert.deepEqual(failures(await h.run()), []);
        await h.mirrors();
      } finally {
        await h.close();
      }
    });

    test("a stop while line items are read 4 at a time ends every request in flight; the next run completes", async () => {
      const h = await setup(dest, {
        counts: { opportunities: 200 },
        switches: { latencyMs: 5 },
      });
      try {
        const controller = new AbortController();
        let inFlightAtStop = -1;
        const stopped = await h.run({
          signal: controller.signal,
          onProgress: (event: ProgressEvent) => {
            if (event.table === "opportunity_products" && !controller.signal.aborted) {
              controller.abort(new Error("stop"));
              inFlightAtStop = h.flight.now;
            }
          },
        });
        assert.ok(inFlightAtStop >= 0, "stopped while line items were read");
        assert.ok(h.flight.most > 1, `${h.flight.most} requests in flight at most`);
        assert.equal(h.flight.now, 0, "no request left in flight");
        const products = stopped.tables.find((t) => t.table === "opportunity_products");
        assert.equal(products?.status, "stopped");
        assert.ok(progressOf(readState(h.statePath), "opportunity_products"), "position saved");
        assert.deepEqual(failures(await h.run()), []);
        await h.mirrors();
      } finally {
        await h.close();
      }
    });

    test("reconcile reads line items 4 at a time and reports parents read", async () => {
      const h = await setup(dest, { counts: { opportunities: 90 } });
      try {
        assert.deepEqual(failures(await h.run()), []);
        const opp = h.sim.rows("opportunities").map((o) => String(o.id))
          .find((id) => (h.sim.lineItems.of(id) ?? []).length > 0)!;
        h.sim.switches.lineItemsBumpOpportunity = false;
        h.sim.lineItems.remove(opp, String(h.sim.lineItems.of(opp)![0].id));
        h.flight.most = 0;
        const events: ProgressEvent[] = [];
        const sink = await openSink(h.url);
        try {
          const result = await reconcileTables({
            tables: ["opportunity_products"],
            batchSize: 20,
            maxParallelRequests: PARALLEL,
          }, {
            source: h.client,
            sink,
            logger: silentLogger(),
            now: Date.now,
            onProgress: (event) => events.push(event),
          });
          assert.equal(result.tables[0].status, "ok", result.tables[0].error ?? "");
          assert.equal(result.tables[0].deleted, 1);
        } finally {
          await sink.close();
        }
        const parents = events.filter((e) => e.what === "parents");
        assert.ok(parents.length > 0, "progress in parents");
        assert.equal(parents.at(-1)!.rows, parents.at(-1)!.total);
        assert.equal(parents.at(-1)!.total, h.sim.count("opportunities"));
        assert.ok(h.flight.most > 1, `${h.flight.most} requests in flight at most`);
        await h.mirrors();
      } finally {
        await h.close();
      }
    });
  });
}
