// Records that cannot be stored (the simulator's `poison` switch): kept whole in _act_rejected,
// the rest of their table stored, tried again every run; and values both sinks must store alike.
import { after, before, describe, postgresSkip, test } from "./_skip.ts";
import { mkdirSync, writeFileSync } from "node:fs";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { createLogger } from "../src/core/log.ts";
import { openSink } from "../src/sink/mod.ts";
import type { ColumnType, FlatPage, RejectedEntry } from "../src/sink/sink.ts";
import { readState } from "../src/state/mod.ts";
import type { RunResult } from "../src/sync/engine.ts";
import { reconcileTables } from "../src/sync/reconcile.ts";
import type { TableName } from "../src/act/tables.ts";
import { type PoisonKind, type RunningSimulator, startSimulator } from "../src/simulator/mod.ts";
import { createApp } from "../src/service/app.ts";
import { Monitor } from "../src/service/monitor.ts";
import { assertMirrors, runCliProcess, simulatorClient, syncOnce, tempDir } from "./_helpers.ts";
import { TestDatabase } from "./_postgres.ts";

const dir = tempDir("act-sync-rejected-");
after(() => rmSync(dir, { recursive: true, force: true }));

interface Destination {
  name: string;
  skip: string | false;
  url(n: number): string;
  /** Before the first test (create the database). */
  open(): Promise<unknown>;
  /** Rows of a query (identifiers quoted, values cast as the test asks). */
  query(url: string, sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

const testDb = new TestDatabase("rejected", { max: 2 });
const DESTINATIONS: Destination[] = [
  {
    name: "SQLite",
    skip: false,
    url: (n) => `sqlite:${join(dir, `d${n}.db`)}`,
    query(url, sql) {
      const db = new DatabaseSync(url.slice("sqlite:".length));
      try {
        return Promise.resolve(db.prepare(sql).all() as Record<string, unknown>[]);
      } finally {
        db.close();
      }
    },
    open: () => Promise.resolve(),
    close: () => Promise.resolve(),
  },
  {
    name: "PostgreSQL",
    skip: postgresSkip(),
    url: (n) => testDb.url(`schema=r${n}`),
    async query(url, sql) {
      const schema = new URL(url).searchParams.get("schema")!;
      const db = await testDb.sql();
      return await db.begin(async (tx) => {
        await tx.unsafe(`SET LOCAL search_path TO "${schema}"`);
        return [...await tx.unsafe(sql)] as Record<string, unknown>[];
      });
    },
    open: () => testDb.sql(),
    close: () => testDb.drop(),
  },
];

let counter = 0;

/** A simulator and a destination, with the contacts to poison picked by position. */
async function harness(dest: Destination, records = 120) {
  const running: RunningSimulator = await startSimulator({ records, seed: 7 });
  const url = dest.url(++counter);
  const statePath = join(dir, `state${counter}.json`);
  const client = simulatorClient(running.url);
  const warnings: string[] = [];
  const logger = createLogger({ level: "WARNING", write: (line) => warnings.push(line) });
  return {
    sim: running.sim,
    url,
    statePath,
    warnings,
    /** Ids of the contacts at these positions (the simulator's order). */
    contactIds: (...at: number[]) => at.map((i) => String(running.sim.rows("contacts")[i].id)),
    poison(id: string, kind: PoisonKind) {
      running.sim.switches.poison[id] = kind;
    },
    run: (tables: TableName[] = ["contacts"], batchSize = 25): Promise<RunResult> =>
      syncOnce(url, statePath, { tables, batchSize, source: client, logger }),
    async rejected(): Promise<RejectedEntry[]> {
      const sink = await openSink(url);
      try {
        return await sink.rejected();
      } finally {
        await sink.close();
      }
    },
    async reconcile(tables: TableName[]) {
      const sink = await openSink(url);
      try {
        return await reconcileTables(
          { tables, batchSize: 25, maxDeleteFraction: 0.5 },
          { source: client, sink, logger, now: Date.now },
        );
      } finally {
        await sink.close();
      }
    },
    query: (sql: string) => dest.query(url, sql),
    close: () => running.close(),
  };
}

/** The rows of a table keyed by id (live ones). */
async function rowsOf(h: Awaited<ReturnType<typeof harness>>, table: string) {
  const rows = await h.query(`SELECT * FROM "${table}" WHERE CAST("_act_deleted" AS INTEGER) = 0`);
  return new Map(rows.map((r) => [String(r.id), r]));
}

const UNSTORABLE: PoisonKind[] = ["deep", "deep-array", "bad-edited", "not-json"];

for (const dest of DESTINATIONS) {
  describe(`${dest.name}: records that cannot be stored`, { skip: dest.skip }, () => {
    before(async () => {
      if (!dest.skip) await dest.open();
    });
    after(() => dest.close());

    test("each is kept whole in _act_rejected, the rest of the table is stored, the cursor moves and a healed one moves into its table", async () => {
      const h = await harness(dest);
      try {
        // At a page's start, middle and end (pages of 25), and the table's very last row.
        const ids = h.contactIds(0, 37, 49, 119);
        UNSTORABLE.forEach((kind, i) => h.poison(ids[i], kind));
        const run = await h.run();
        assert.equal(run.ok, true, run.tables[0].error ?? "");
        assert.equal(run.tables[0].rejected, 4);

        const rejected = await h.rejected();
        assert.deepEqual(
          rejected.map((r) => [r.table, r.id, r.parent]).sort(),
          ids.map((id) => ["contacts", id, null]).sort(),
        );
        const byId = new Map(rejected.map((r) => [r.id, r]));
        assert.match(byId.get(ids[0])!.reason, /nested more than 64 levels deep/);
        assert.match(byId.get(ids[0])!.raw, /"deep":\{"a":\{"a":/);
        assert.match(byId.get(ids[1])!.reason, /nested more than 64 levels deep/);
        assert.ok(byId.get(ids[1])!.raw.includes(`"deepArray":${"[".repeat(100_000)}]`));
        assert.match(
          byId.get(ids[2])!.reason,
          /'edited' is not a valid date-time: got "not a date"/,
        );
        assert.match(byId.get(ids[2])!.raw, /"edited":"not a date"/);
        assert.match(byId.get(ids[3])!.reason, /is not valid JSON/);
        assert.equal(byId.get(ids[3])!.raw, `{"id":"${ids[3]}","name":tru}`);
        for (const entry of rejected) assert.ok(entry.firstSeen <= entry.lastSeen);

        // Every other row is stored, exactly; the cursor moved past the rejected ones.
        const truth = h.sim.rows("contacts").filter((r) => !ids.includes(String(r.id)));
        assertMirrors("contacts", truth, await rowsOf(h, "contacts"));
        const state = readState(h.statePath);
        assert.ok(state.table_cursors.contacts);
        assert.equal(state.tables?.contacts?.rejected, 4);
        for (const id of ids) {
          assert.ok(
            h.warnings.some((w) =>
              w.includes("WARNING") && w.includes(id) && w.includes("contacts")
            ),
            `a warning names ${id}`,
          );
        }

        // Still poisoned: kept, last_seen moves; healed: read by id (its `edited` is old, so
        // no window reads it), stored, and out of _act_rejected.
        h.sim.heal(ids[0]);
        h.sim.heal(ids[3]);
        const again = await h.run();
        assert.equal(again.ok, true);
        assert.equal(again.tables[0].rejected, 2);
        const left = await h.rejected();
        assert.deepEqual(left.map((r) => r.id).sort(), [ids[1], ids[2]].sort());
        for (const entry of left) assert.ok(entry.lastSeen > entry.firstSeen);
        const stored = await rowsOf(h, "contacts");
        assertMirrors(
          "contacts",
          h.sim.rows("contacts").filter((r) => String(r.id) !== ids[1] && String(r.id) !== ids[2]),
          stored,
        );
        assert.equal(readState(h.statePath).tables?.contacts?.rejected, 2);
      } finally {
        await h.close();
      }
    });

    test("a capped page of nothing but records that cannot be stored: the rest is read by id", async () => {
      const h = await harness(dest, 40);
      try {
        // One row per response: each poisoned contact fills a page alone, with no valid
        // 'edited' to go on from.
        h.sim.switches.pageCap = 1;
        const ids = h.contactIds(0, 13, 27, 39);
        h.poison(ids[0], "not-json");
        h.poison(ids[1], "bad-edited");
        h.poison(ids[2], "not-json");
        h.poison(ids[3], "deep");
        for (let round = 0; round < 2; round++) {
          const run = await h.run(["contacts"], 5);
          assert.equal(run.ok, true, run.tables[0].error ?? "");
          assert.equal(run.tables[0].rejected, 4);
          assert.deepEqual((await h.rejected()).map((r) => r.id).sort(), [...ids].sort());
          const truth = h.sim.rows("contacts").filter((r) => !ids.includes(String(r.id)));
          assertMirrors("contacts", truth, await rowsOf(h, "contacts"));
          h.sim.edit("contacts", String(truth[5].id), { firstName: `Round ${round}` });
        }
      } finally {
        await h.close();
      }
    });

    test("reconcile neither fetches a rejected record as missing nor marks it deleted", async () => {
      const h = await harness(dest, 60);
      try {
        const [kept] = h.contactIds(10);
        assert.equal((await h.run()).ok, true); // stored once, then it cannot be stored
        h.sim.edit("contacts", kept);
        h.poison(kept, "bad-edited");
        const [fresh] = h.contactIds(20);
        h.sim.edit("contacts", fresh, { jobTitle: "later" });
        assert.equal((await h.run()).tables[0].rejected, 1);
        const [result] = (await h.reconcile(["contacts"])).tables;
        assert.equal(result.status, "ok", result.error ?? "");
        assert.equal(result.fetched, 0);
        assert.equal(result.deleted, 0);
        assert.ok((await rowsOf(h, "contacts")).has(kept), "the stored version stays live");
        assert.deepEqual((await h.rejected()).map((r) => r.id), [kept]);
      } finally {
        await h.close();
      }
    });

    test("a line item that cannot be stored is kept with its opportunity and tried again through it", async () => {
      const h = await harness(dest, 40);
      try {
        const items = h.sim.rows("opportunity_products");
        const item = items[3];
        h.poison(String(item.id), "not-json");
        const run = await h.run(["opportunity_products"]);
        assert.equal(run.ok, true, run.tables[0].error ?? "");
        const [entry] = await h.rejected();
        assert.equal(entry.id, String(item.id));
        assert.equal(entry.parent, String(item.opportunityID));
        assert.ok(!(await rowsOf(h, "opportunity_products")).has(String(item.id)));
        h.sim.heal(String(item.id));
        assert.equal((await h.run(["opportunity_products"])).tables[0].rejected, 0);
        assert.deepEqual(await h.rejected(), []);
        assert.ok((await rowsOf(h, "opportunity_products")).has(String(item.id)));
      } finally {
        await h.close();
      }
    });

    test("NUL, unpaired surrogates and numbers no double holds are stored the same way", async () => {
      const h = await harness(dest, 30);
      try {
        const [nul, lone, big] = h.contactIds(3, 4, 5);
        h.poison(nul, "nul");
        h.poison(lone, "surrogate");
        h.poison(big, "big-numbers");
        const run = await h.run();
        assert.equal(run.ok, true, run.tables[0].error ?? "");
        assert.equal(run.tables[0].rejected, 0);
        const text = (column: string, id: string) =>
          h.query(`SELECT CAST("${column}" AS TEXT) AS v FROM contacts WHERE id = '${id}'`)
            .then((rows) => rows[0].v);
        assert.equal(await text("nul", nul), "a\ufffdb");
        assert.deepEqual(JSON.parse(String(await text("nulList", nul))), ["a\ufffdb"]);
        assert.equal(await text("lone", lone), "\ufffd alone");
        assert.deepEqual(JSON.parse(String(await text("loneList", lone))), ["x\ufffd"]);
        assert.equal(await text("bigExp", big), "12345678901234567");
        const list = String(await text("bigList", big)).replace(/\s/g, "");
        const exact = dest.name === "SQLite"
          ? "[1e400,12345678901234567890,12345678901234567,-0.10000000000000000001]"
          : `[1${"0".repeat(400)},12345678901234567890,12345678901234567,-0.10000000000000000001]`;
        assert.equal(list, exact);
      } finally {
        await h.close();
      }
    });

    test("a boolean column widened to text reads 1 and 0", async () => {
      const url = dest.url(++counter);
      const sink = await openSink(url);
      try {
        const page = (rows: FlatPage["rows"], type: ColumnType): FlatPage => ({
          rows,
          types: new Map([["flag", type]]),
        });
        const at = "2026-01-01T00:00:00Z";
        await sink.write(
          "t",
          page([{ id: "a", flag: true }, { id: "b", flag: false }], "boolean"),
          at,
        );
        await sink.write("t", page([{ id: "c", flag: "maybe" }], "text"), at);
        await sink.write(
          "t",
          page([{ id: "d", flag: true }, { id: "e", flag: false }], "boolean"),
          at,
        );
      } finally {
        await sink.close();
      }
      const rows = await dest.query(
        url,
        `SELECT id, CAST(flag AS TEXT) AS flag FROM t ORDER BY id`,
      );
      assert.deepEqual(rows.map((r) => [r.id, r.flag]), [
        ["a", "1"],
        ["b", "0"],
        ["c", "maybe"],
        ["d", "1"],
        ["e", "0"],
      ]);
    });
  });
}

test("a run that stores every row but rejected ones exits 0 and says so: warning, summary, /health, /metrics, status page", async () => {
  const running = await startSimulator({ records: 30, seed: 7 });
  try {
    const id = String(running.sim.rows("contacts")[4].id);
    running.sim.switches.poison[id] = "not-json";
    const folder = join(dir, "cli");
    const config = join(dir, "cli.json");
    mkdirSync(folder, { recursive: true });
    writeFileSync(
      config,
      JSON.stringify({
        protocol: "http",
        hostname: "127.0.0.1",
        port: new URL(running.url).port,
        api_path: new URL(running.url).pathname,
        username: "demo",
        password: "demo",
        database_name: "ActDemo",
        rate_limit_pause: 0,
        destination: `sqlite:${join(folder, "act.db")}`,
        state_file: join(folder, "state.json"),
        tables: ["contacts"],
      }),
    );
    const result = await runCliProcess(["--once", "--config", config], { cwd: folder });
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`WARNING.*Table contacts: a record cannot be stored.*${id}.*not valid JSON`),
    );
    assert.match(
      result.stdout,
      /1 record cannot be stored and is kept in _act_rejected \(contacts 1\)/,
    );
    const state = readState(join(folder, "state.json"));
    assert.equal(state.tables?.contacts?.rejected, 1);

    // The service shows the same state: ok, with the count, the gauge and a note per table.
    const monitor = new Monitor({
      tables: ["contacts"],
      schedule: "*/15 * * * *",
      intervalMs: 15 * 60_000,
      now: Date.now,
      state,
    });
    const app = createApp({
      monitor,
      logger: createLogger({ level: "SEVERE", write: () => {} }),
      startRun: () => null,
    });
    monitor.runStarted("r1", "start-up");
    monitor.runFinished({
      ok: true,
      tables: [],
      state,
      startedAt: new Date().toISOString(),
      durationMs: 10,
    });
    const health = await app.request("/health");
    assert.equal(health.status, 200);
    const body = await health.json();
    assert.equal(body.status, "ok");
    assert.equal(body.rejected, 1);
    const metrics = await (await app.request("/metrics")).text();
    assert.match(metrics, /^act_sync_rejected_rows\{table="contacts"\} 1$/m);
    const page = await (await app.request("/")).text();
    assert.match(page, /1 in _act_rejected/);
  } finally {
    await running.close();
  }
});
