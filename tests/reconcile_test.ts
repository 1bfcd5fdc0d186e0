import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { ActClient } from "../src/act/client.ts";
import { silentLogger } from "../src/core/log.ts";
import { openSqliteSink } from "../src/sink/sqlite.ts";
import { type ProgressEvent, type RunResult } from "../src/sync/engine.ts";
import {
  type ReconcileOptions,
  type ReconcileResult,
  reconcileTables,
  scanIds,
} from "../src/sync/reconcile.ts";
import { TABLE_NAMES, type TableName } from "../src/act/tables.ts";
import {
  type RunningSimulator,
  simulatorConfig,
  type SimulatorOptions,
  startSimulator,
} from "../src/simulator/mod.ts";
import {
  assertMirrors,
  runCliProcess,
  simulatorClient,
  sqliteRows,
  syncOnce,
  tempDir,
} from "./_helpers.ts";

const dir = tempDir("act-sync-reconcile-");
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

interface Harness {
  running: RunningSimulator;
  db: string;
  client: ActClient;
  sync(tables?: readonly TableName[]): Promise<RunResult>;
  reconcile(
    options?: Partial<ReconcileOptions>,
    onProgress?: (event: ProgressEvent) => void,
  ): Promise<ReconcileResult>;
  close(): Promise<void>;
}

async function harness(options: SimulatorOptions = {}): Promise<Harness> {
  const running = await startSimulator({ records: 150, seed: 11, ...options });
  const folder = join(dir, `h${++counter}`);
  const db = join(folder, "act.db");
  const statePath = join(folder, "state.json");
  const client = simulatorClient(running.url);
  return {
    running,
    db,
    client,
    async sync(tables = TABLE_NAMES) {
      const result = await syncOnce(`sqlite:${db}`, statePath, { tables, source: client });
      assert.equal(result.ok, true, JSON.stringify(result.tables.map((t) => t.error)));
      return result;
    },
    async reconcile(o = {}, onProgress) {
      const sink = await openSqliteSink(db);
      try {
        return await reconcileTables({
          tables: o.tables ?? TABLE_NAMES,
          batchSize: o.batchSize ?? 50,
          maxDeleteFraction: o.maxDeleteFraction ?? 0.5,
          force: o.force,
        }, { source: client, sink, logger: silentLogger(), now: Date.now, onProgress });
      } finally {
        await sink.close();
      }
    },
    close: () => running.close(),
  };
}

/** Every row of a table, deleted ones too, keyed by id. */
function allRows(db: string, table: string): Map<string, Record<string, unknown>> {
  const conn = new DatabaseSync(db);
  try {
    const rows = conn.prepare(`SELECT * FROM "${table}"`).all() as Record<string, unknown>[];
    return new Map(rows.map((r) => [String(r.id), r]));
  } finally {
    conn.close();
  }
}

function sqlite(db: string, sql: string): void {
  const conn = new DatabaseSync(db);
  try {
    conn.exec(sql);
  } finally {
    conn.close();
  }
}

function table(result: ReconcileResult, name: TableName) {
  const t = result.tables.find((t) => t.table === name);
  assert.ok(t, `no result for ${name}`);
  return t;
}

function assertAllMirror(h: Harness): void {
  for (const name of TABLE_NAMES) {
    assertMirrors(name, h.running.sim.rows(name), sqliteRows(h.db, name));
  }
}

describe("reconcileTables()", () => {
  test("marks rows deleted in Act! with _act_deleted and _act_deleted_at, GUID and int ids", async () => {
    const h = await harness();
    try {
      await h.sync();
      const sim = h.running.sim;
      const gone = sim.rows("contacts").slice(10, 15).map((r) => String(r.id));
      for (const id of gone) sim.remove("contacts", id);
      const activity = String(sim.rows("activities")[7].id); // GUID + MMddyyyy
      sim.remove("activities", activity);
      const type = String(sim.rows("activity_types")[2].id); // int id
      sim.remove("activity_types", type);
      const before = Date.now();
      const result = await h.reconcile();
      assert.equal(result.ok, true, JSON.stringify(result.tables.map((t) => t.error)));
      assert.equal(table(result, "contacts").deleted, 5);
      assert.equal(table(result, "activities").deleted, 1);
      assert.equal(table(result, "activity_types").deleted, 1);
      assert.equal(table(result, "companies").deleted, 0);
      assert.equal(table(result, "contacts").remote, sim.count("contacts"));
      const contacts = allRows(h.db, "contacts");
      for (const id of gone) {
        assert.equal(contacts.get(id)?._act_deleted, 1, id);
        assert.ok(Date.parse(String(contacts.get(id)?._act_deleted_at)) >= before - 1000);
      }
      assert.equal(allRows(h.db, "activity_types").get(type)?._act_deleted, 1);
      assertAllMirror(h);
      // A second reconcile finds nothing more to do; its progress events count ids against the
      // destination's rows (the bar's total).
      const events: ProgressEvent[] = [];
      const again = await h.reconcile({}, (event) => events.push(event));
      const last = events.findLast((e) => e.table === "contacts");
      assert.equal(last?.what, "ids");
      assert.equal(last?.rows, sim.count("contacts"));
      assert.equal(last?.total, sim.count("contacts")); // the live rows of the destination
      assert.deepEqual(again.tables.map((t) => t.deleted + t.fetched), TABLE_NAMES.map(() => 0));
    } finally {
      await h.close();
    }
  });

  test("fetches rows the destination lacks, under a page cap below batch_size", async () => {
    const h = await harness({ records: 300, switches: { pageCap: 7 } });
    try {
      await h.sync();
      const sim = h.running.sim;
      const lost = sim.rows("contacts").slice(0, 40).map((r) => String(r.id));
      sqlite(h.db, `DELETE FROM contacts WHERE id IN (${lost.map((id) => `'${id}'`).join(",")})`);
      sqlite(h.db, `DELETE FROM activity_types WHERE id IN ('1', '5')`);
      sqlite(h.db, `DELETE FROM activities WHERE rowid % 9 = 0`);
      const result = await h.reconcile();
      assert.equal(result.ok, true, JSON.stringify(result.tables.map((t) => t.error)));
      assert.equal(table(result, "contacts").fetched, 40);
      assert.equal(table(result, "activity_types").fetched, 2);
      assert.ok(table(result, "activities").fetched > 0);
      assertAllMirror(h);
    } finally {
      await h.close();
    }
  });

  test("revives a row marked deleted that Act! has again", async () => {
    const h = await harness();
    try {
      await h.sync(["companies"]);
      const sim = h.running.sim;
      const record = sim.rows("companies")[4];
      const id = String(record.id);
      sim.remove("companies", id);
      assert.equal(table(await h.reconcile({ tables: ["companies"] }), "companies").deleted, 1);
      assert.equal(allRows(h.db, "companies").get(id)?._act_deleted, 1);
      // It comes back unchanged (old `edited`: no incremental read would ever see it).
      sim.insert("companies", record);
      await h.sync(["companies"]);
      assert.equal(allRows(h.db, "companies").get(id)?._act_deleted, 1, "sync alone misses it");
      const result = await h.reconcile({ tables: ["companies"] });
      assert.equal(table(result, "companies").fetched, 1);
      const row = allRows(h.db, "companies").get(id);
      assert.equal(row?._act_deleted, 0);
      assert.equal(row?._act_deleted_at, null);
      assertMirrors("companies", sim.rows("companies"), sqliteRows(h.db, "companies"));
    } finally {
      await h.close();
    }
  });

  test("refuses to mark more than max_delete_fraction of a table without force", async () => {
    const h = await harness();
    try {
      await h.sync(["contacts", "products"]);
      const sim = h.running.sim;
      const ids = sim.rows("contacts").map((r) => String(r.id));
      const gone = ids.slice(0, Math.ceil(ids.length * 0.6));
      for (const id of gone) sim.remove("contacts", id);
      for (const r of sim.rows("products")) sim.remove("products", String(r.id)); // all gone
      const refused = await h.reconcile({ tables: ["contacts", "products"] });
      assert.equal(refused.ok, false);
      assert.equal(table(refused, "contacts").status, "refused");
      assert.equal(table(refused, "contacts").refusedDeletes, gone.length);
      assert.match(table(refused, "contacts").error!, /max_delete_fraction/);
      assert.equal(table(refused, "products").status, "refused");
      assert.equal(sqliteRows(h.db, "contacts").size, ids.length, "nothing marked");
      const forced = await h.reconcile({ tables: ["contacts"], force: true });
      assert.equal(forced.ok, true);
      assert.equal(table(forced, "contacts").deleted, gone.length);
      assertMirrors("contacts", sim.rows("contacts"), sqliteRows(h.db, "contacts"));
      const higher = await h.reconcile({ tables: ["products"], maxDeleteFraction: 1 });
      assert.equal(table(higher, "products").status, "ok");
      assert.equal(sqliteRows(h.db, "products").size, 0);
    } finally {
      await h.close();
    }
  });

  test("rows deleted and inserted while the ids are scanned never get a live row marked", async () => {
    const h = await harness({ records: 400, switches: { pageCap: 9, unstableOrder: true } });
    try {
      await h.sync(["contacts", "activity_types"]);
      const sim = h.running.sim;
      const ids = sim.rows("contacts").map((r) => String(r.id));
      const types = sim.rows("activity_types").map((r) => String(r.id));
      let n = 0;
      const unsubscribe = sim.onRequest(() => {
        n++;
        if (n % 3 === 0 && n < 150) sim.remove("contacts", ids[n]);
        if (n % 4 === 0 && n < 150) sim.insert("contacts");
        if (n === 2) sim.remove("activity_types", types[0]);
      });
      const result = await h.reconcile({ tables: ["contacts", "activity_types"], batchSize: 20 });
      unsubscribe();
      assert.equal(result.ok, true, JSON.stringify(result.tables.map((t) => t.error)));
      assert.ok(n > 30, `${n} requests`);
      const rows = allRows(h.db, "contacts");
      for (const [id, row] of rows) {
        if (row._act_deleted === 1) assert.equal(sim.get("contacts", id), undefined, id);
      }
      for (const id of ids) {
        if (sim.get("contacts", id)) assert.equal(rows.get(id)?._act_deleted, 0, id);
      }
      // Everything settles on the next reconcile.
      await h.reconcile({ tables: ["contacts", "activity_types"] });
      assertMirrors("contacts", sim.rows("contacts"), sqliteRows(h.db, "contacts"));
      assertMirrors(
        "activity_types",
        sim.rows("activity_types"),
        sqliteRows(h.db, "activity_types"),
      );
    } finally {
      await h.close();
    }
  });

  test("a scan that fails part-way marks nothing", async () => {
    const h = await harness({ switches: { pageCap: 10 } });
    try {
      await h.sync(["contacts"]);
      const sim = h.running.sim;
      for (const r of sim.rows("contacts").slice(0, 3)) sim.remove("contacts", String(r.id));
      let n = 0;
      const unsubscribe = sim.onRequest(() => {
        if (++n === 6) sim.inject({ kind: "status", status: 403 });
      });
      const result = await h.reconcile({ tables: ["contacts"] });
      unsubscribe();
      assert.equal(table(result, "contacts").status, "failed");
      assert.match(table(result, "contacts").error!, /403/);
      assert.equal(table(result, "contacts").deleted, 0);
      assert.equal(sqliteRows(h.db, "contacts").size, 150, "nothing marked");
    } finally {
      await h.close();
    }
  });

  test("servers that reject $select or $filter: full rows and verified offset scans", async () => {
    const h = await harness({ switches: { productsFilter: false, pageCap: 15 } });
    try {
      await h.sync(["products", "companies"]);
      const sim = h.running.sim;
      const product = String(sim.rows("products")[3].id);
      sim.remove("products", product);
      const company = String(sim.rows("companies")[1].id);
      sim.remove("companies", company);
      sqlite(h.db, `DELETE FROM products WHERE rowid % 7 = 0 AND id <> '${product}'`);
      sqlite(h.db, `DELETE FROM companies WHERE rowid % 5 = 0 AND id <> '${company}'`);
      // The first request of companies answers 400 as a server without $select would.
      sim.inject({ kind: "status", status: 400, path: "/api/companies" });
      const result = await h.reconcile({ tables: ["products", "companies"], batchSize: 20 });
      assert.equal(result.ok, true, JSON.stringify(result.tables.map((t) => t.error)));
      assert.equal(table(result, "products").deleted, 1);
      assert.ok(table(result, "products").fetched > 0);
      assert.equal(table(result, "companies").deleted, 1);
      assert.ok(table(result, "companies").fetched > 0);
      assertMirrors("products", sim.rows("products"), sqliteRows(h.db, "products"));
      assertMirrors("companies", sim.rows("companies"), sqliteRows(h.db, "companies"));
    } finally {
      await h.close();
    }
  });

  test("scanIds() finds every id at batch_size 1, 2 and 3 and under caps of 1 and 2", async () => {
    const cases: [batchSize: number, pageCap: number | null][] = [
      [1, null],
      [2, null],
      [3, null],
      [50, 1],
      [2, 2],
    ];
    for (const [batchSize, pageCap] of cases) {
      const h = await harness({ counts: { contacts: 30 }, switches: { pageCap } });
      try {
        const sim = h.running.sim;
        for (let i = 0; i < 25; i++) sim.insert("contacts");
        const scan = await scanIds(h.client, "/api/contacts", { batchSize });
        const want = sim.rows("contacts").map((r) => String(r.id)).sort();
        assert.deepEqual([...scan.ids].sort(), want, `batch ${batchSize}, cap ${pageCap}`);
        assert.ok(scan.requests < 600, `batch ${batchSize}, cap ${pageCap}: ${scan.requests}`);
        // Integer ids: verified offset scans.
        const types = await scanIds(h.client, "/api/task-types", { batchSize });
        assert.equal(types.ids.size, 12, `task types: batch ${batchSize}, cap ${pageCap}`);
      } finally {
        await h.close();
      }
    }
  });

  test("scanIds() asks for 10 × batch_size ids and splits by the expected row count at once", async () => {
    const h = await harness({ counts: { contacts: 2000 } });
    try {
      const sim = h.running.sim;
      const tops = new Set<string>();
      const stop = sim.onRequest((info) => {
        tops.add(`${info.query.get("$top")} ${info.query.get("$select")}`);
      });
      // 50 ids per response: 2000 ids fit 256 parts ('00'…'ff') of about 8, at most 3/4 full.
      const scan = await scanIds(h.client, "/api/contacts", { batchSize: 5, expectedRows: 2000 });
      stop();
      assert.equal(scan.ids.size, 2000);
      assert.deepEqual([...tops], ["50 id"]);
      assert.equal(scan.requests, 1 + 256); // the first request, then one per part: no split
      // Under a page cap the parts come back full and are split: more requests, every id.
      sim.switches.pageCap = 7;
      const capped = await scanIds(h.client, "/api/contacts", { batchSize: 5, expectedRows: 2000 });
      assert.deepEqual(
        [...capped.ids].sort(),
        sim.rows("contacts").map((r) => String(r.id)).sort(),
      );
      assert.ok(capped.requests > 257, `${capped.requests} requests`);
    } finally {
      await h.close();
    }
  });

  test("scanIds() reads a tie of ids sharing long prefixes under a tiny page cap", async () => {
    const h = await harness({ counts: { contacts: 0 }, switches: { pageCap: 3 } });
    try {
      const sim = h.running.sim;
      const base = "12345678-aaaa-4bbb-8ccc-";
      for (let i = 0; i < 20; i++) {
        sim.insert("contacts", { id: `${base}${String(i).padStart(12, "0")}` });
      }
      const scan = await scanIds(h.client, "/api/contacts", { batchSize: 50 });
      assert.equal(scan.ids.size, 20);
      assert.equal(scan.selectSupported, true);
    } finally {
      await h.close();
    }
  });
});

test("act-sync reconcile records its result in the state file; the guard exits 1", async () => {
  const running = await startSimulator({ records: 60, seed: 5 });
  try {
    const folder = join(dir, "cli");
    const config = join(dir, "cli.json");
    writeFileSync(
      config,
      JSON.stringify(simulatorConfig(running.url, {
        batch_size: 40,
        destination: `sqlite:${join(folder, "act.db")}`,
        state_file: join(folder, "state.json"),
        tables: ["contacts", "companies"],
      })),
    );
    const sync = await runCliProcess(["--once", "--config", config]);
    assert.equal(sync.code, 0, sync.stderr);
    const sim = running.sim;
    sim.remove("contacts", String(sim.rows("contacts")[0].id));
    const ok = await runCliProcess(["reconcile", "contacts", "--config", config]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^contacts\s+59\s+60\s+0\s+1\s+ok$/m);
    const state = JSON.parse(readFileSync(join(folder, "state.json"), "utf8"));
    assert.equal(state.reconcile.contacts.deleted, 1);
    assert.equal(state.reconcile.contacts.status, "ok");
    assert.ok(state.table_cursors.contacts, "cursors kept");
    for (const r of sim.rows("companies").slice(0, 10)) sim.remove("companies", String(r.id));
    const refused = await runCliProcess(["reconcile", "--config", config]);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /companies .*refused/);
    assert.doesNotMatch(refused.stdout + refused.stderr, /"demo"/);
    const forced = await runCliProcess(["reconcile", "companies", "--force", "--config", config]);
    assert.equal(forced.code, 0, forced.stdout + forced.stderr);
    assertMirrors(
      "companies",
      sim.rows("companies"),
      sqliteRows(join(folder, "act.db"), "companies"),
    );
    const bad = await runCliProcess(["reconcile", "nosuchtable", "--config", config]);
    assert.equal(bad.code, 2);
  } finally {
    await running.close();
  }
});
