import { after, before, describe, postgresSkip, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { ActClient } from "../src/act/client.ts";
import type { RejectedEntry, Sink } from "../src/sink/sink.ts";
import { openSink } from "../src/sink/mod.ts";
import { readState, writeState } from "../src/state/mod.ts";
import { type RunResult } from "../src/sync/engine.ts";
import {
  LOOKUP_TABLE_NAMES,
  METADATA_TABLE_NAMES,
  TABLE_NAMES,
  type TableName,
  TABLES,
} from "../src/act/tables.ts";
import {
  type RunningSimulator,
  type SimulatorOptions,
  startSimulator,
} from "../src/simulator/mod.ts";
import {
  assertMirrors,
  simulatorClient,
  sqliteCount,
  sqliteRows,
  syncOnce,
  tempDir,
} from "./_helpers.ts";
import { TestDatabase } from "./_postgres.ts";

// The same cases run against SQLite and, when ACT_SYNC_TEST_PG names a PostgreSQL superuser URL
// (CI starts one with scripts/postgres.sh), against PostgreSQL: same simulator, same truth.

/** A destination under test: where rows go and how to read them back. */
interface Destination {
  name: string;
  skip: string | false;
  /** A fresh destination URL for one harness. */
  create(folder: string, n: number): string;
  rows(url: string, table: TableName): Promise<Map<string, Record<string, unknown>>>;
  /** Rows with this table's ids, deleted ones included (duplicates would show here). */
  count(url: string, table: TableName): Promise<number>;
  close(): Promise<void>;
}

const sqlite: Destination = {
  name: "SQLite",
  skip: false,
  create: (folder) => `sqlite:${join(folder, "act.db")}`,
  rows: (url, table) => Promise.resolve(sqliteRows(url.slice("sqlite:".length), table)),
  count: (url, table) => Promise.resolve(sqliteCount(url.slice("sqlite:".length), table)),
  close: () => Promise.resolve(),
};

const testDb = new TestDatabase("sync", { max: 2 });
const pgUrl = (query = "") => testDb.url(query);
const pg = () => testDb.sql();

const postgresDestination: Destination = {
  name: "PostgreSQL",
  skip: postgresSkip(),
  create: (_folder, n) => pgUrl(`schema=h${n}`),
  async rows(url, table) {
    const schema = new URL(url).searchParams.get("schema")!;
    const sql = await pg();
    const exists = await sql`SELECT 1 FROM information_schema.tables
      WHERE table_schema = ${schema} AND table_name = ${table}`;
    if (exists.length === 0) return new Map();
    const rows = await sql.unsafe(
      `SELECT * FROM "${schema}"."${table}" WHERE NOT _act_deleted`,
    );
    return new Map(rows.map((r) => [String(r.id), { ...r }]));
  },
  async count(url, table) {
    const schema = new URL(url).searchParams.get("schema")!;
    const rows = await (await pg()).unsafe(`SELECT count(*)::int AS n FROM "${schema}"."${table}"`);
    return Number(rows[0].n);
  },
  async close() {
    await testDb.drop();
  },
};

const dir = tempDir("act-sync-sync-");
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

interface Harness {
  running: RunningSimulator;
  destination: string;
  statePath: string;
  client: ActClient;
  run(options?: {
    tables?: TableName[];
    batchSize?: number;
    lookbackSeconds?: number;
    fullRefresh?: boolean;
    now?: () => number;
    sink?: (sink: Sink) => Sink;
  }): Promise<RunResult>;
  rows(table: TableName): Promise<Map<string, Record<string, unknown>>>;
  /** The rows of `_act_rejected`. */
  rejected(): Promise<RejectedEntry[]>;
  assertMirrors(tables?: readonly TableName[]): Promise<void>;
  close(): Promise<void>;
}

let destination: Destination = sqlite;

async function harness(options: SimulatorOptions = {}): Promise<Harness> {
  const running = await startSimulator({ records: 120, seed: 7, ...options });
  const n = ++counter;
  const folder = join(dir, `h${n}`);
  const dest = destination;
  const url = dest.create(folder, n);
  const statePath = join(folder, "state.json");
  const client = simulatorClient(running.url);
  return {
    running,
    destination: url,
    statePath,
    client,
    async run(o = {}) {
      return await syncOnce(url, statePath, {
        tables: o.tables ?? TABLE_NAMES,
        batchSize: o.batchSize,
        lookbackSeconds: o.lookbackSeconds,
        fullRefresh: o.fullRefresh,
        source: client,
        wrap: o.sink,
        ...(o.now ? { now: o.now } : {}),
      });
    },
    rows: (table) => dest.rows(url, table),
    async rejected() {
      const sink = await openSink(url);
      try {
        return await sink.rejected();
      } finally {
        await sink.close();
      }
    },
    async assertMirrors(tables = TABLE_NAMES) {
      for (const table of tables) {
        assertMirrors(table, running.sim.rows(table), await dest.rows(url, table));
        assert.equal(
          await dest.count(url, table),
          running.sim.count(table),
          `${table}: no duplicates`,
        );
      }
    },
    close: () => running.close(),
  };
}

function assertOk(result: RunResult): void {
  const failed = result.tables.filter((t) => t.status !== "ok");
  assert.deepEqual(failed.map((t) => `${t.table}: ${t.error}`), []);
  assert.equal(result.ok, true);
}

for (const dest of [sqlite, postgresDestination]) {
  describe(`${dest.name} destination`, { skip: dest.skip }, () => {
    before(async () => {
      destination = dest;
      if (dest === postgresDestination) await pg(); // creates the test database
    });
    after(() => dest.close());

    describe("sync engine against the simulator", () => {
      let h: Harness;
      before(async () => {
        h = await harness();
      });
      after(() => h.close());

      test("a first run copies all six tables exactly; a second run reads only what changed", async () => {
        assertOk(await h.run());
        await h.assertMirrors();
        const state = readState(h.statePath);
        for (const table of TABLE_NAMES) assert.ok(state.table_cursors[table], `${table} cursor`);

        const sim = h.running.sim;
        const contact = sim.rows("contacts")[3];
        sim.edit("contacts", String(contact.id), { firstName: "Changed" });
        sim.insert("companies");
        const cursor = Date.parse(state.table_cursors.contacts);
        const changed = sim.rows("contacts").filter((r) => Date.parse(String(r.edited)) >= cursor);
        const before = sim.stats.dataRequests;
        const second = await h.run({ lookbackSeconds: 0 });
        assertOk(second);
        await h.assertMirrors();
        const contacts = second.tables.find((t) => t.table === "contacts")!;
        assert.equal(contacts.rowsWritten, changed.length, "only rows edited since the cursor");
        assert.ok(contacts.requests <= 3, `${contacts.requests} requests for contacts`);
        // The lookup and metadata tables are read whole every run (a fixed 33 requests here: a
        // lookup list takes three, as its endpoint ignores paging; see lookups_test.ts).
        const whole = second.tables.filter((t) =>
          TABLES[t.table].lookup || TABLES[t.table].metadata
        )
          .reduce((n, t) => n + t.requests, 0);
        assert.ok(whole <= 33, `${whole} requests for the lookup and metadata tables`);
        assert.ok(sim.stats.dataRequests - before - whole < 40, "few requests for a small change");
      });
    });

    describe("no row is lost", () => {
      test("rows edited, inserted and deleted between page requests", async () => {
        const h = await harness({ records: 400 });
        try {
          const sim = h.running.sim;
          let n = 0;
          const ids = sim.rows("contacts").map((r) => String(r.id));
          const unsubscribe = sim.onRequest((info) => {
            if (!info.path.toLowerCase().includes("/api/contacts")) return;
            n++;
            if (n > 12) return;
            // Edit a row read early, delete another, insert a new one: every later row shifts.
            sim.edit("contacts", ids[n * 3], { jobTitle: `edited ${n}` });
            sim.remove("contacts", ids[n * 3 + 1]);
            sim.insert("contacts");
          });
          assertOk(await h.run({ tables: ["contacts"], batchSize: 40 }));
          unsubscribe();
          // The rows edited during the run are newer than the window: the next run gets them.
          assertOk(await h.run({ tables: ["contacts"], batchSize: 40 }));
          // Deleted rows stay in the destination until reconcile; compare only live rows.
          const rows = await h.rows("contacts");
          for (const id of ids.filter((_, i) => i % 3 === 1 && i >= 4 && i <= 37)) rows.delete(id);
          assertMirrors("contacts", sim.rows("contacts"), rows);
        } finally {
          await h.close();
        }
      });

      test("a page with a row that is not JSON is rolled back whole and asked for again", async () => {
        // 2,500-row pages are written 1,000 rows at a time in one transaction (WRITE_CHUNK):
        // row 1250 is in the second chunk, after the first was written.
        const h = await harness({ records: 2600 });
        try {
          const sim = h.running.sim;
          // Once: the page is asked for again, read whole, and the run loses nothing.
          sim.inject({ kind: "bad-row", path: "/api/contacts" });
          const before = sim.stats.dataRequests;
          assertOk(await h.run({ tables: ["contacts"], batchSize: 2500 }));
          // Page 1, page 2 (sent ahead, dropped with page 1), page 1 again whole, page 2.
          assert.equal(sim.stats.dataRequests - before, 4);
          await h.assertMirrors(["contacts"]);

          // Every time: the table fails, naming the problem, and none of the page is kept.
          const h2 = await harness({ records: 2600 });
          try {
            h2.running.sim.inject({ kind: "bad-row", path: "/api/contacts", times: 100 });
            const failed = await h2.run({ tables: ["contacts"], batchSize: 2500 });
            assert.equal(failed.tables[0].status, "failed");
            assert.match(failed.tables[0].error ?? "", /invalid or truncated JSON/);
            assert.equal(failed.tables[0].rowsWritten, 0);
            assert.equal((await h2.rows("contacts")).size, 0);
            assert.equal(readState(h2.statePath).table_cursors.contacts, undefined);
          } finally {
            await h2.close();
          }
        } finally {
          await h.close();
        }
      });

      test("a tie group larger than a page, in unstable order, under a page cap", async () => {
        const h = await harness({
          records: 600,
          switches: { pageCap: 25, unstableOrder: true },
        });
        try {
          const sim = h.running.sim;
          const ids = sim.rows("contacts").slice(100, 400).map((r) => String(r.id));
          sim.touch("contacts", ids); // 300 rows with one `edited`, 12 pages' worth
          assertOk(await h.run({ tables: ["contacts"], batchSize: 100 }));
          await h.assertMirrors(["contacts"]);
        } finally {
          await h.close();
        }
      });

      test("a page cap below batch_size and a row count that is a multiple of it", async () => {
        const h = await harness({ counts: { companies: 200 }, switches: { pageCap: 30 } });
        try {
          assertOk(await h.run({ tables: ["companies"], batchSize: 50 }));
          await h.assertMirrors(["companies"]);
          assertOk(await h.run({ tables: ["companies"], batchSize: 40, fullRefresh: true }));
          await h.assertMirrors(["companies"]);
        } finally {
          await h.close();
        }
      });

      test("the host clock ahead of or behind the server's", async () => {
        for (const skew of [-600, 600]) {
          const h = await harness({ switches: { clockSkewSeconds: skew } });
          try {
            assertOk(await h.run({ tables: ["contacts"] }));
            const sim = h.running.sim;
            for (const row of sim.rows("contacts").slice(0, 5)) {
              sim.edit("contacts", String(row.id), { jobTitle: `skew ${skew}` });
            }
            assertOk(await h.run({ tables: ["contacts"], lookbackSeconds: 0 }));
            await h.assertMirrors(["contacts"]);
          } finally {
            await h.close();
          }
        }
      });

      /** Edit three rows and insert two in each table, as users do between runs. */
      function editAndInsert(h: Harness, tables: readonly TableName[], tag: string): void {
        const sim = h.running.sim;
        for (const table of tables) {
          for (const row of sim.rows(table).slice(0, 3)) {
            sim.edit(table, String(row.id), table === "products" ? { name: tag } : {});
          }
          sim.insert(table);
          sim.insert(table);
        }
      }

      for (const stampSkewSeconds of [-600, 600]) {
        const side = stampSkewSeconds < 0 ? "behind" : "ahead of";
        test(`the clock that stamps rows 10 minutes ${side} the Date header: edits and inserts between runs arrive`, async () => {
          const tables: TableName[] = ["contacts", "companies"];
          const h = await harness({ switches: { stampSkewSeconds } });
          try {
            // Small pages, so that a run's changes take more than one response.
            assertOk(await h.run({ tables, batchSize: 4 }));
            await h.assertMirrors(tables);
            for (const round of [1, 2]) {
              editAndInsert(h, tables, `round ${round}`);
              assertOk(await h.run({ tables, batchSize: 4 }));
              await h.assertMirrors(tables);
            }
            // The cursor is a value read, never past the server's clock.
            const cursor = Date.parse(readState(h.statePath).table_cursors.contacts);
            assert.ok(cursor <= h.running.sim.serverNow(), `cursor ${cursor}`);
          } finally {
            await h.close();
          }
        });
      }

      for (const jump of [Date.UTC(2100, 0, 1), Date.UTC(2001, 0, 1)]) {
        const to = new Date(jump).toISOString().slice(0, 4);
        test(`a Date header that jumps once to ${to} moves no cursor past the data`, async () => {
          const tables: TableName[] = ["contacts", "activities"];
          const h = await harness();
          try {
            const sim = h.running.sim;
            sim.switches.dateJumpTo = jump;
            assertOk(await h.run({ tables }));
            assert.equal(sim.switches.dateJumpTo, null, "the jump happened");
            await h.assertMirrors(tables);
            const cursors = readState(h.statePath).table_cursors;
            for (const table of tables) {
              assert.ok(Date.parse(cursors[table]) <= Date.now(), `${table}: ${cursors[table]}`);
            }
            for (const round of [1, 2]) {
              // The jump again, in the middle of a later run.
              if (round === 2) sim.switches.dateJumpTo = jump;
              editAndInsert(h, tables, `round ${round}`);
              assertOk(await h.run({ tables }));
              await h.assertMirrors(tables);
            }
          } finally {
            await h.close();
          }
        });
      }

      test("a row stamped in the future is read every run and holds back no later edit", async () => {
        const h = await harness();
        try {
          const sim = h.running.sim;
          sim.insert("contacts", { edited: "2100-01-01T00:00:00+00:00" });
          assertOk(await h.run({ tables: ["contacts"] }));
          await h.assertMirrors(["contacts"]);
          const cursor = readState(h.statePath).table_cursors.contacts;
          assert.ok(Date.parse(cursor) <= Date.now(), cursor);
          editAndInsert(h, ["contacts"], "after");
          assertOk(await h.run({ tables: ["contacts"] }));
          await h.assertMirrors(["contacts"]);
        } finally {
          await h.close();
        }
      });

      test("a cursor in the future (from an older version) is read from the host's clock", async () => {
        const h = await harness();
        try {
          assertOk(await h.run({ tables: ["contacts"] }));
          const state = readState(h.statePath);
          writeState(h.statePath, {
            ...state,
            table_cursors: { ...state.table_cursors, contacts: "2100-01-01T00:00:00Z" },
          });
          editAndInsert(h, ["contacts"], "after");
          assertOk(await h.run({ tables: ["contacts"] }));
          await h.assertMirrors(["contacts"]);
          const cursor = readState(h.statePath).table_cursors.contacts;
          assert.ok(Date.parse(cursor) <= Date.now(), cursor);
        } finally {
          await h.close();
        }
      });

      // 40 companies, 28 of them in one tie group: larger than every page, than a cap of 25 and
      // than the ids one request may exclude.
      for (const pageCap of [1, 2, 25]) {
        test(`every page size: batch_size 1, 2, 3 and an exact multiple against a cap of ${pageCap}`, async () => {
          for (const batchSize of [1, 2, 3, 20]) {
            const h = await harness({ counts: { companies: 40 }, switches: { pageCap } });
            try {
              const sim = h.running.sim;
              const ids = sim.rows("companies").map((r) => String(r.id));
              sim.touch("companies", ids.slice(5, 33), Date.parse("2024-03-01T10:00:00Z"));
              const label = `batch ${batchSize}, cap ${pageCap}`;
              // Companies are read by window, activity types (12, int ids) in full by offset.
              const tables: TableName[] = ["companies", "activity_types"];
              const first = await h.run({ tables, batchSize });
              assertOk(first);
              await h.assertMirrors(tables);
              assert.ok(first.tables[0].requests < 400, `${label}: ${first.tables[0].requests}`);
              // Between runs: edits, inserts and a new tie group larger than a page.
              sim.touch("companies", ids.slice(0, 6));
              editAndInsert(h, ["companies"], label);
              assertOk(await h.run({ tables, batchSize }));
              await h.assertMirrors(tables);
            } finally {
              await h.close();
            }
          }
        });
      }

      test("a run that dies after any page resumes in the same window and loses nothing", async () => {
        const h = await harness({ records: 300, switches: { pageCap: 20 } });
        try {
          const sim = h.running.sim;
          for (const crashAfter of [1, 3, 7]) {
            let writes = 0;
            const crashed = await h.run({
              tables: ["contacts", "activities"],
              batchSize: 20,
              sink: (sink) => ({
                ...sink,
                description: sink.description,
                write(table, page, at) {
                  if (++writes > crashAfter) return Promise.reject(new Error("power cut"));
                  return sink.write(table, page, at);
                },
                count: (t) => sink.count(t),
                ids: (t) => sink.ids(t),
                markDeleted: (t, i, a) => sink.markDeleted(t, i, a),
                reject: (t, r, a) => sink.reject(t, r, a),
                unreject: (t, k) => sink.unreject(t, k),
                rejected: () => sink.rejected(),
                prepare: (t, s, a) => sink.prepare(t, s, a),
                close: () => sink.close(),
              }),
            });
            assert.equal(crashed.ok, false);
            sim.edit("contacts", String(sim.rows("contacts")[crashAfter].id), {
              jobTitle: "later",
            });
          }
          const state = readState(h.statePath);
          assert.ok(state.table_batch_tracking.contacts, "an unfinished window is recorded");
          assertOk(await h.run({ tables: ["contacts", "activities"], batchSize: 20 }));
          await h.assertMirrors(["contacts", "activities"]);
          assert.equal(readState(h.statePath).table_batch_tracking.contacts, undefined);
        } finally {
          await h.close();
        }
      });
    });

    describe("server quirks and failures", () => {
      test("activity types fall back to /api/task-types; products without $filter are read in full", async () => {
        const h = await harness({ switches: { activityTypes: false, productsFilter: false } });
        try {
          assertOk(await h.run({ tables: ["activity_types", "products"] }));
          await h.assertMirrors(["activity_types", "products"]);
          const sim = h.running.sim;
          sim.edit("products", String(sim.rows("products")[0].id), { price: 99.5 });
          assertOk(await h.run({ tables: ["activity_types", "products"] }));
          await h.assertMirrors(["activity_types", "products"]);
        } finally {
          await h.close();
        }
      });

      test("a server that ignores $skip fails the table with 'Paging is not advancing'", async () => {
        const h = await harness({ switches: { ignoreSkip: true } });
        try {
          const result = await h.run({ tables: ["contacts", "activity_types"], batchSize: 5 });
          const types = result.tables.find((t) => t.table === "activity_types")!;
          assert.equal(types.status, "failed");
          assert.match(types.error!, /Paging is not advancing/);
          // The window reads of contacts never use $skip: unaffected.
          assert.equal(result.tables.find((t) => t.table === "contacts")!.status, "ok");
          await h.assertMirrors(["contacts"]);
        } finally {
          await h.close();
        }
      });

      test("one failing table leaves the others synced and keeps its cursor", async () => {
        const h = await harness();
        try {
          h.running.sim.inject({ kind: "status", status: 403, times: 100, path: "/api/companies" });
          const result = await h.run({ tables: ["contacts", "companies", "products"] });
          assert.equal(result.ok, false);
          const companies = result.tables.find((t) => t.table === "companies")!;
          assert.equal(companies.status, "failed");
          assert.match(companies.error!, /403/);
          await h.assertMirrors(["contacts", "products"]);
          const state = readState(h.statePath);
          assert.equal(state.table_cursors.companies, undefined);
          assert.match(state.tables!.companies.last_error!.message, /403/);
        } finally {
          await h.close();
        }
      });

      test("a new custom field appearing mid-run becomes a column", async () => {
        const h = await harness({ records: 200 });
        try {
          const sim = h.running.sim;
          let n = 0;
          sim.onRequest((info) => {
            if (info.path.toLowerCase().includes("/api/contacts") && ++n === 2) {
              const row = sim.rows("contacts")[199];
              sim.edit("contacts", String(row.id), {
                customFields: { ...(row.customFields as object), user_region: "North" },
              });
            }
          });
          const result = await h.run({ tables: ["contacts"], batchSize: 30 });
          assertOk(result);
          // The edited row moved above the window's end unless it was edited in the same second:
          // then the next run reads it. Either way a run adds the column.
          const next = await h.run({ tables: ["contacts"], batchSize: 30 });
          assertOk(next);
          const added = [...result.tables[0].newColumns, ...next.tables[0].newColumns];
          assert.ok(added.includes("customFields_user_region"), added.join(","));
          await h.assertMirrors(["contacts"]);
        } finally {
          await h.close();
        }
      });

      test("every table empty on a first full read trips the fail-safe; an idle run succeeds", async () => {
        const empty = Object.fromEntries(TABLE_NAMES.map((t) => [t, 0]));
        const h = await harness({ counts: empty });
        try {
          const result = await h.run();
          assert.equal(result.ok, false);
          assert.match(result.failSafe!, /Too many empty results/);
          assert.match(result.failSafe!, /wrong database name/);
          // Record tables keep no cursor, so the next run reads them in full again.
          const cursors = Object.keys(readState(h.statePath).table_cursors);
          // Lookup tables (activity types, users, the lookup lists, the metadata) are not
          // record tables: they keep theirs.
          const lookups: string[] = [
            "activity_types",
            "users",
            ...LOOKUP_TABLE_NAMES,
            ...METADATA_TABLE_NAMES,
          ];
          assert.deepEqual(cursors.filter((t) => !lookups.includes(t)), []);
        } finally {
          await h.close();
        }
        const idle = await harness();
        try {
          assertOk(await idle.run());
          const second = await idle.run();
          assertOk(second);
          assert.equal(second.tables.find((t) => t.table === "contacts")!.requests <= 2, true);
        } finally {
          await idle.close();
        }
      });

      test("the Python connector's state file is accepted and its cursor used", async () => {
        const h = await harness();
        try {
          const sim = h.running.sim;
          const rows = sim.rows("contacts");
          const edited = rows.map((r) => Date.parse(String(r.edited))).sort((a, b) => a - b);
          const middle = new Date(edited[Math.floor(edited.length / 2)]).toISOString();
          writeState(h.statePath, {
            table_cursors: { contacts: middle.replace(".000Z", "+00:00") },
            table_batch_tracking: { contacts: { last_batch: 4 } },
          });
          const result = await h.run({ tables: ["contacts"], lookbackSeconds: 0 });
          assertOk(result);
          const expected = rows.filter((r) => Date.parse(String(r.edited)) >= Date.parse(middle));
          assert.equal((await h.rows("contacts")).size, expected.length);
          assert.ok(existsSync(h.statePath));
        } finally {
          await h.close();
        }
      });
    });
  });
}
