import { after, before, describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import type { TableName } from "../src/act/tables.ts";
import { type RunningSimulator, startSimulator } from "../src/simulator/mod.ts";
import { REPORT_QUERIES } from "../src/sink/queries.ts";
import { simulatorClient, syncOnce, tempDir } from "./_helpers.ts";
import { syncInto } from "./_report_db.ts";
import { TestDatabase } from "./_postgres.ts";
import { postgresSkip } from "./_skip.ts";

// PostgreSQL for reports: exact sums of money (numeric, also after a double precision table is
// migrated under its views), and report_role, whose grants survive rebuilt views and let every
// example query of docs/reporting.md run as written in a schema other than public.

const dir = tempDir("act-sync-report-postgres-");
after(() => rmSync(dir, { recursive: true, force: true }));

describe("PostgreSQL: exact numbers", { skip: postgresSkip() }, () => {
  const db = new TestDatabase("rnum", { max: 2 });
  let running: RunningSimulator;
  before(async () => {
    running = await startSimulator({ records: 200, seed: 3 });
  });
  after(async () => {
    await running.close();
    await db.drop();
  });

  /** The exact sum of money values (two decimals), as text. */
  function exactSum(values: number[]): string {
    const cents = values.reduce((sum, v) => sum + BigInt(Math.round(v * 100)), 0n);
    const abs = cents < 0n ? -cents : cents;
    const text = `${abs / 100n}.${String(abs % 100n).padStart(2, "0")}`;
    return cents < 0n ? `-${text}` : text;
  }

  test("sums of money are exact, also in a table written with double precision", async () => {
    const url = db.url("schema=money");
    const sql = await db.sql();
    const state = join(dir, "money-state.json");
    await syncInto(running, url, state, ["opportunities", "field_labels"]);
    const want = exactSum(running.sim.rows("opportunities").map((o) => Number(o.weightedTotal)));
    const sum = async () => {
      const [row] = await sql.unsafe(
        `SELECT sum("weightedTotal")::text AS s, format_type(a.atttypid, a.atttypmod) AS t ` +
          `FROM money.opportunities_live, pg_attribute a WHERE a.attrelid = ` +
          `'money.opportunities'::regclass AND a.attname = 'weightedTotal' GROUP BY 2`,
      );
      return { sum: String(row.s).replace(/\.?0+$/, ""), type: row.t };
    };
    const trimmed = want.replace(/\.?0+$/, "");
    assert.deepEqual(await sum(), { sum: trimmed, type: "numeric" });
    // A table an older version wrote: double precision under both views, migrated on the next
    // run.
    await sql.unsafe(`DROP VIEW money.opportunities_live`);
    await sql.unsafe(`DROP VIEW money.opportunities_labeled`);
    await sql.unsafe(
      `ALTER TABLE money.opportunities ALTER COLUMN "weightedTotal" TYPE double precision`,
    );
    await sql.unsafe(
      `CREATE VIEW money.opportunities_labeled AS SELECT id, "weightedTotal" ` +
        `FROM money.opportunities`,
    );
    const [float] = await sql.unsafe(
      `SELECT sum("weightedTotal")::text AS s FROM money.opportunities`,
    );
    assert.notEqual(String(float.s), want, "double precision sums are not exact");
    await syncInto(running, url, state, ["opportunities", "field_labels"]);
    assert.deepEqual(await sum(), { sum: trimmed, type: "numeric" });
    const [labeled] = await sql.unsafe(
      `SELECT sum("weightedTotal")::text AS s FROM money.opportunities_labeled`,
    );
    assert.equal(String(labeled.s).replace(/\.?0+$/, ""), trimmed, "the labelled view again");
  });
});

describe("PostgreSQL: report_role", { skip: postgresSkip() }, () => {
  const db = new TestDatabase("rrole", { max: 2 });
  const role = `act_reports_${process.pid}`;
  let running: RunningSimulator;
  before(async () => {
    running = await startSimulator({ records: 40, seed: 8 });
    const sql = await db.sql();
    await sql.unsafe(`DROP ROLE IF EXISTS "${role}"`).catch(() => {});
    await sql.unsafe(`CREATE ROLE "${role}" NOLOGIN`);
  });
  after(async () => {
    await running.close();
    await db.drop();
    const { default: postgres } = await import("postgres");
    const admin = postgres(process.env.ACT_SYNC_TEST_PG!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP ROLE IF EXISTS "${role}"`).catch(() => {});
    await admin.end();
  });

  /** Run a query as the report role, with the schema on its search_path. */
  async function asRole(query: string): Promise<Record<string, unknown>[]> {
    const sql = await db.sql();
    return await sql.begin(async (tx) => {
      await tx.unsafe(`SET LOCAL ROLE "${role}"`);
      await tx.unsafe(`SET LOCAL search_path TO reports`);
      return [...await tx.unsafe(query)];
    });
  }

  test("the role keeps SELECT after a new field appears and the views are rebuilt", async () => {
    const url = db.url("schema=reports");
    const state = join(dir, "role-state.json");
    const sync = (tables: TableName[]) =>
      syncOnce(url, state, {
        tables,
        source: simulatorClient(running.url),
        sinkOptions: { reportRole: role },
      });
    await sync(["opportunities", "field_labels"]);
    const count = running.sim.count("opportunities");
    const views = ["opportunities_live", "opportunity_contacts_live", "opportunities_labeled"];
    for (const from of ["opportunities", ...views]) {
      const [row] = await asRole(`SELECT count(*)::int AS n FROM ${from}`);
      assert.ok(Number(row.n) > 0, `${from} readable`);
    }
    const target = running.sim.rows("opportunities")[0];
    running.sim.edit("opportunities", String(target.id), { reportingRegion: "North" });
    const second = await sync(["opportunities", "contacts", "field_labels"]);
    assert.equal(second.ok, true);
    for (const view of ["opportunities_live", "opportunities_labeled"]) {
      const rows = await asRole(
        `SELECT count(*)::int AS n, count("reportingRegion")::int AS r FROM ${view}`,
      );
      assert.deepEqual(rows.map((r) => ({ ...r })), [{ n: count, r: 1 }], `the rebuilt ${view}`);
    }
    const [contacts] = await asRole(`SELECT count(*)::int AS n FROM contacts_live`);
    assert.equal(contacts.n, running.sim.count("contacts"), "a table created later");
  });

  test("every example query of docs/reporting.md runs as written as the role", async () => {
    const url = db.url("schema=reports");
    await syncOnce(url, join(dir, "role-state.json"), {
      tables: [
        "contacts",
        "companies",
        "opportunities",
        "activities",
        "history",
        "opportunity_products",
      ],
      source: simulatorClient(running.url),
      sinkOptions: { reportRole: role },
    });
    for (const query of Object.values(REPORT_QUERIES)) {
      const rows = await asRole(query.postgres);
      assert.ok(rows.length > 0, query.title);
    }
  });
});
