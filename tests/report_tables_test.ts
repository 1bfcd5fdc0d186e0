import { after, before, describe, postgresSkip, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../src/core/log.ts";
import { openSink } from "../src/sink/mod.ts";
import { progressOf, readState } from "../src/state/mod.ts";
import { type EngineDeps, type RunResult } from "../src/sync/engine.ts";
import { reconcileTables } from "../src/sync/reconcile.ts";
import type { TableName } from "../src/act/tables.ts";
import { type SimulatorOptions, startSimulator } from "../src/simulator/mod.ts";
import { assertMirrors, simulatorClient, sqliteRows, syncOnce, tempDir } from "./_helpers.ts";
import { TestDatabase } from "./_postgres.ts";

// The tables reports need beyond the Python connector's six: history, groups, users, opportunity
// line items.

const NEW_TABLES: TableName[] = ["history", "groups", "users", "opportunity_products"];
const ALL: TableName[] = ["opportunities", ...NEW_TABLES];

const dir = tempDir("act-sync-reports-");
after(() => rmSync(dir, { recursive: true, force: true }));
const testDb = new TestDatabase("reports", { max: 2 });
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
    url: (n) => `sqlite:${join(dir, `r${n}.db`)}`,
    rows: (url, table) => Promise.resolve(sqliteRows(url.slice("sqlite:".length), table)),
  },
  {
    name: "PostgreSQL",
    skip: postgresSkip(),
    url: (n) => testDb.url(`schema=r${n}`),
    async rows(url, table) {
      const schema = new URL(url).searchParams.get("schema")!;
      const sql = await testDb.sql();
      const exists = await sql`SELECT 1 FROM information_schema.tables
        WHERE table_schema = ${schema} AND table_name = ${table}`;
      if (exists.length === 0) return new Map();
      const rows = await sql.unsafe(`SELECT * FROM "${schema}"."${table}" WHERE NOT _act_deleted`);
      return new Map(rows.map((r) => [String(r.id), { ...r }]));
    },
  },
];

async function setup(dest: Dest, options: SimulatorOptions = {}) {
  const running = await startSimulator({ records: 80, seed: 11, ...options });
  const url = dest.url(++counter);
  const statePath = join(dir, `state${counter}.json`);
  const client = simulatorClient(running.url);
  const sim = running.sim;
  return {
    sim,
    async run(
      tables: TableName[] = ALL,
      batchSize = 25,
      extra: Partial<EngineDeps> = {},
    ): Promise<RunResult> {
      return await syncOnce(url, statePath, {
        tables,
        batchSize,
        lookbackSeconds: 0,
        source: client,
        ...extra,
      });
    },
    async reconcile(tables: TableName[]) {
      const sink = await openSink(url);
      try {
        return await reconcileTables({ tables, batchSize: 25 }, {
          source: client,
          sink,
          logger: silentLogger(),
          now: Date.now,
        });
      } finally {
        await sink.close();
      }
    },
    async mirrors(tables: TableName[] = ALL) {
      for (const table of tables) {
        assertMirrors(table, sim.rows(table), await dest.rows(url, table));
      }
    },
    state: () => readState(statePath),
    close: () => running.close(),
  };
}

function assertOk(result: RunResult): void {
  assert.deepEqual(
    result.tables.filter((t) => t.status !== "ok").map((t) => `${t.table}: ${t.error}`),
    [],
  );
}

for (const dest of destinations) {
  describe(`report tables, ${dest.name}`, { skip: dest.skip }, () => {
    before(async () => {
      if (dest.name === "PostgreSQL") await testDb.sql();
    });
    after(async () => {
      if (dest.name === "PostgreSQL") await testDb.drop();
    });

    test("history, groups, users and line items match the simulator, after edits, inserts, deletes and a removed line item", async () => {
      const h = await setup(dest);
      try {
        assertOk(await h.run());
        await h.mirrors();
        const sim = h.sim;
        assert.ok(
          sim.rows("history").length >= 200 && sim.rows("opportunity_products").length > 20,
        );
        const history = sim.rows("history");
        assert.ok(history.every((r) => !String(r.details).includes("<")), "details as text");
        sim.edit("history", String(history[5].id), { regarding: "Changed" });
        sim.insert("history");
        sim.remove("history", String(history[9].id));
        sim.edit("groups", String(sim.rows("groups")[1].id), { name: "Renamed group" });
        sim.insert("groups");
        sim.insert("users");
        const opps = sim.rows("opportunities").filter((o) =>
          sim.lineItems.of(String(o.id))!.length
        );
        const removed = sim.lineItems.of(String(opps[0].id))![0];
        assert.equal(sim.lineItems.remove(String(opps[0].id), String(removed.id)), true);
        sim.lineItems.add(String(opps[1].id));
        const edited = sim.lineItems.of(String(opps[2].id))![0];
        sim.lineItems.edit(String(opps[2].id), String(edited.id), { quantity: 42 });
        sim.insert("opportunities");
        const before = sim.stats.dataRequests;
        const second = await h.run();
        assertOk(second);
        const secondRequests = sim.stats.dataRequests - before;
        // History deletes are found by reconcile, like every table's.
        const lines = await dest.rows(dest.url(counter), "opportunity_products");
        assert.equal(lines.has(String(removed.id)), false, "a removed line item is marked deleted");
        assert.equal(Number(lines.get(String(edited.id))!.quantity), 42);
        const reconciled = await h.reconcile([
          "history",
          "groups",
          "users",
          "opportunity_products",
        ]);
        assert.deepEqual(reconciled.tables.map((t) => t.status), ["ok", "ok", "ok", "ok"]);
        await h.mirrors();
        // Changed opportunities only: three edited by their line items, one inserted; the first
        // list read is asked again at an offset and probed (the server ignores $skip and $top).
        const lineItems = second.tables.find((t) => t.table === "opportunity_products")!;
        assert.ok(lineItems.requests <= 4 + 3 + 2, `${lineItems.requests} requests for line items`);
        assert.ok(secondRequests < 40, `${secondRequests} requests`);
      } finally {
        await h.close();
      }
    });

    test("a no-change run reads only a request or two per new table", async () => {
      const h = await setup(dest);
      try {
        assertOk(await h.run(ALL, 1000));
        const before = h.sim.stats.dataRequests;
        const idle = await h.run(NEW_TABLES, 1000);
        assertOk(idle);
        const counts = Object.fromEntries(idle.tables.map((t) => [t.table, t.requests]));
        console.log(`no-change run, requests per table: ${JSON.stringify(counts)}`);
        // The window's request and at most a probe; users: a server that ignores OData answers
        // twice with the same list, and a probe for fewer rows gets them all again; line items:
        // those of the opportunities at the cursor again, the first list asked again at an
        // offset and probed.
        assert.ok(counts.history <= 2 && counts.groups <= 2, JSON.stringify(counts));
        assert.equal(counts.users, 3);
        assert.ok(counts.opportunity_products <= 4 + 2, JSON.stringify(counts));
        assert.ok(h.sim.stats.dataRequests - before <= 13);
      } finally {
        await h.close();
      }
    });

    test("line items are written in small chunks of opportunities: a stop keeps them and the next run completes", async () => {
      const h = await setup(dest, { counts: { opportunities: 350 } });
      try {
        const total = h.sim.rows("opportunity_products").length;
        const controller = new AbortController();
        const events: number[] = [];
        // A first sync at a batch size of 500: the 350 opportunities fit in one page.
        const stopped = await h.run(["opportunity_products"], 500, {
          signal: controller.signal,
          onProgress: (event) => {
            events.push(event.rows);
            if (events.length === 2) controller.abort();
          },
        });
        assert.equal(stopped.tables[0].status, "stopped");
        assert.equal(events.length, 2, "a progress event per chunk of opportunities");
        const kept = (await dest.rows(dest.url(counter), "opportunity_products")).size;
        assert.ok(kept > 0 && kept < total, `${kept} of ${total} line items kept`);
        assert.ok(progressOf(h.state(), "opportunity_products"), "the position is saved");
        const progress: number[] = [];
        assertOk(
          await h.run(["opportunity_products"], 500, {
            onProgress: (event) => progress.push(event.rows),
          }),
        );
        assert.ok(progress.length >= 2, `${progress.length} progress events`);
        await h.mirrors(["opportunity_products"]);
      } finally {
        await h.close();
      }
    });

    test("groups without edited and users honouring OData are read in full; history details as stored when format is ignored", async () => {
      const h = await setup(dest, {
        switches: { groupsEdited: false, usersOdata: true, historyFormat: false },
      });
      try {
        assertOk(await h.run(NEW_TABLES, 3));
        await h.mirrors(NEW_TABLES);
        assert.ok(h.sim.rows("history").some((r) => String(r.details).startsWith("<html>")));
        h.sim.edit("groups", String(h.sim.rows("groups")[0].id), { name: "Changed" });
        assertOk(await h.run(NEW_TABLES, 3));
        await h.mirrors(NEW_TABLES);
      } finally {
        await h.close();
      }
    });

    test("users from a server that ignores OData, exactly batch_size of them, are read in full", async () => {
      const h = await setup(dest);
      try {
        const users = h.sim.count("users");
        assertOk(await h.run(["users"], users)); // a full page, then the same page for $skip
        await h.mirrors(["users"]);
        assertOk(await h.run(["users"], 1)); // every page is the whole list
        await h.mirrors(["users"]);
      } finally {
        await h.close();
      }
    });

    test("users from a server that honours $top but ignores $skip fail the table, never silently", async () => {
      const h = await setup(dest, { switches: { usersOdata: true, ignoreSkip: true } });
      try {
        const result = await h.run(["users"], 3);
        assert.equal(result.tables[0].status, "failed");
        assert.match(result.tables[0].error ?? "", /not advancing/);
      } finally {
        await h.close();
      }
    });

    test("line items changed without bumping the opportunity are caught by reconcile", async () => {
      const h = await setup(dest, { switches: { lineItemsBumpOpportunity: false } });
      try {
        assertOk(await h.run());
        const sim = h.sim;
        const opp = sim.rows("opportunities").find((o) => sim.lineItems.of(String(o.id))!.length)!;
        const item = sim.lineItems.of(String(opp.id))![0];
        sim.lineItems.remove(String(opp.id), String(item.id));
        sim.lineItems.add(String(opp.id));
        assertOk(await h.run());
        await assert.rejects(h.mirrors(["opportunity_products"]));
        const reconciled = await h.reconcile(["opportunity_products"]);
        assert.equal(reconciled.tables[0].status, "ok");
        await h.mirrors(["opportunity_products"]);
      } finally {
        await h.close();
      }
    });

    test("a failed line item fetch fails the table and the next run reads that opportunity again", async () => {
      const h = await setup(dest);
      try {
        assertOk(await h.run());
        const sim = h.sim;
        const opp = sim.rows("opportunities").find((o) => sim.lineItems.of(String(o.id))!.length)!;
        sim.lineItems.add(String(opp.id));
        sim.inject({
          kind: "status",
          status: 404,
          path: `/api/opportunities/${opp.id}/products`,
          times: 1,
        });
        const failed = await h.run(["opportunity_products"]);
        assert.equal(failed.tables[0].status, "failed");
        await assert.rejects(h.mirrors(["opportunity_products"]));
        assertOk(await h.run(["opportunity_products"]));
        await h.mirrors(["opportunity_products"]);
      } finally {
        await h.close();
      }
    });
  });
}
