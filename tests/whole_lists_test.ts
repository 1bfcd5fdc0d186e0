import { after, before, describe, postgresSkip, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createLogger, type Logger, silentLogger } from "../src/core/log.ts";
import { openSink } from "../src/sink/mod.ts";
import { readState } from "../src/state/mod.ts";
import type { EngineDeps, RunResult } from "../src/sync/engine.ts";
import { reconcileTables } from "../src/sync/reconcile.ts";
import type { TableName } from "../src/act/tables.ts";
import { type SimulatorOptions, startSimulator } from "../src/simulator/mod.ts";
import { assertMirrors, simulatorClient, sqliteRows, syncOnce, tempDir } from "./_helpers.ts";
import { TestDatabase } from "./_postgres.ts";

// Lists read whole (a parent's line items, users): paging and completeness, deletions marked
// only after a whole read, the parent key found through the column mapping.

const dir = tempDir("act-sync-whole-");
after(() => rmSync(dir, { recursive: true, force: true }));
const testDb = new TestDatabase("whole", { max: 2 });
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
    url: (n) => `sqlite:${join(dir, `w${n}.db`)}`,
    rows: (url, table) => Promise.resolve(sqliteRows(url.slice("sqlite:".length), table)),
  },
  {
    name: "PostgreSQL",
    skip: postgresSkip(),
    url: (n) => testDb.url(`schema=w${n}`),
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

const ITEMS: TableName[] = ["opportunities", "opportunity_products"];

async function setup(dest: Dest, options: SimulatorOptions = {}) {
  const running = await startSimulator({ records: 60, seed: 5, ...options });
  const url = dest.url(++counter);
  const statePath = join(dir, `state${counter}.json`);
  const client = simulatorClient(running.url);
  const sim = running.sim;
  return {
    sim,
    url,
    async run(tables: TableName[], extra: Partial<EngineDeps> = {}): Promise<RunResult> {
      return await syncOnce(url, statePath, {
        tables,
        batchSize: 25,
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
    async mirrors(tables: TableName[]) {
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

/** Opportunities with more than `n` line items (the test needs some). */
function oppsWithMore(sim: Awaited<ReturnType<typeof setup>>["sim"], n: number): string[] {
  const ids = sim.rows("opportunities").map((o) => String(o.id));
  const many = ids.filter((id) => (sim.lineItems.of(id) ?? []).length > n);
  assert.ok(many.length >= 2, `${many.length} opportunities with more than ${n} line items`);
  return many;
}

function warnings(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level: "WARNING", write: (line) => void lines.push(line) });
  return { logger, lines };
}

for (const dest of destinations) {
  describe(`lists read whole, ${dest.name}`, { skip: dest.skip }, () => {
    before(async () => {
      if (dest.name === "PostgreSQL") await testDb.sql();
    });
    after(async () => {
      if (dest.name === "PostgreSQL") await testDb.drop();
    });

    for (const cap of [1, 2]) {
      test(`line items from a server that answers at most ${cap} per request are read whole, by sync and reconcile`, async () => {
        const h = await setup(dest, { switches: { subListCap: cap } });
        try {
          const many = oppsWithMore(h.sim, cap);
          assertOk(await h.run(ITEMS));
          await h.mirrors(ITEMS);
          // A removed item is marked deleted; the others stay live.
          const item = h.sim.lineItems.of(many[0])![0];
          assert.equal(h.sim.lineItems.remove(many[0], String(item.id)), true);
          h.sim.lineItems.add(many[1]);
          assertOk(await h.run(ITEMS));
          await h.mirrors(ITEMS);
          const reconciled = await h.reconcile(["opportunity_products"]);
          assert.equal(reconciled.tables[0].status, "ok", reconciled.tables[0].error ?? "");
          assert.equal(reconciled.tables[0].deleted, 0);
          await h.mirrors(ITEMS);
        } finally {
          await h.close();
        }
      });
    }

    test("line items carrying OpportunityID: a removed one is marked deleted", async () => {
      const h = await setup(dest, { switches: { lineItemsUpperKey: true } });
      try {
        const many = oppsWithMore(h.sim, 1);
        assertOk(await h.run(ITEMS));
        await h.mirrors(ITEMS);
        const item = h.sim.lineItems.of(many[0])![0];
        assert.equal(h.sim.lineItems.remove(many[0], String(item.id)), true);
        assertOk(await h.run(ITEMS));
        const rows = await dest.rows(h.url, "opportunity_products");
        assert.equal(rows.has(String(item.id)), false, "the removed line item is marked deleted");
        await h.mirrors(ITEMS);
        const sink = await openSink(h.url);
        try {
          await assert.rejects(
            sink.ids("opportunity_products", { field: "noSuchField", value: many[0] }),
            /Cannot find rows of table "opportunity_products" by source field "noSuchField"/,
          );
          const stored = await sink.ids("opportunity_products", {
            field: "opportunityID",
            value: many[0],
          });
          assert.equal(stored.length, h.sim.lineItems.of(many[0])!.length);
        } finally {
          await sink.close();
        }
      } finally {
        await h.close();
      }
    });

    for (const odata of [false, true]) {
      test(`users removed in Act! are marked deleted by the next sync (users ${odata ? "with" : "without"} OData), within the mass-delete guard`, async () => {
        const h = await setup(dest, { switches: { usersOdata: odata } });
        try {
          const first = await h.run(["users"]);
          assertOk(first);
          const users = h.sim.rows("users").map((u) => String(u.id));
          assert.equal(first.tables[0].rowsRead, users.length, "each user counted once");
          assert.ok(users.length >= 6, `${users.length} users`);
          assert.equal(h.sim.remove("users", users[0]), true);
          assertOk(await h.run(["users"]));
          await h.mirrors(["users"]);
          // More than half of the users gone: nothing is marked, with a warning.
          const rest = users.slice(1);
          const gone = rest.slice(0, Math.floor(rest.length / 2) + 1);
          for (const id of gone) h.sim.remove("users", id);
          const { logger, lines } = warnings();
          assertOk(await h.run(["users"], { logger }));
          const rows = await dest.rows(h.url, "users");
          assert.equal(rows.size, rest.length, "no user marked deleted");
          assert.match(lines.join("\n"), /more than 'max_delete_fraction' 0\.5/);
          const reconciled = await h.reconcile(["users"]);
          assert.equal(reconciled.tables[0].status, "refused");
        } finally {
          await h.close();
        }
      });
    }
  });
}
