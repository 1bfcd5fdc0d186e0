import { after, before, describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type RunningSimulator, startSimulator } from "../src/simulator/mod.ts";
import type { TableName } from "../src/act/tables.ts";
import { REPORT_QUERIES } from "../src/sink/queries.ts";
import { tempDir } from "./_helpers.ts";
import { postgresDestination, reconcileInto, sqliteDestination, syncInto } from "./_report_db.ts";

// The reporting guide's queries over notes and a custom table, run against a synced simulator
// database on both sinks and checked against the simulator's records (computed here,
// independently of the SQL). The SQL is the guide's (tests/report_queries_test.ts checks that
// docs/reporting.md shows exactly REPORT_QUERIES).

const NOTES = REPORT_QUERIES.notesPerCompanyPerMonth;
const PROJECTS = REPORT_QUERIES.openProjectsPerContact;

type Rec = Record<string, unknown>;
const TABLES = ["contacts", "companies", "notes", "custom_*"] as TableName[];

const dir = tempDir("act-sync-report-custom-");
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

/** Result rows as sorted lines, numbers with two decimals. */
function lines(rows: Rec[]): string[] {
  return rows.map((row) =>
    Object.values(row).map((v) =>
      typeof v === "number" || (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v))
        ? Number(v).toFixed(2)
        : String(v)
    ).join(" | ")
  ).sort();
}

/** Sum `add` into groups keyed by `key` (a key's text up to a NUL only tells groups apart). */
function tally<T>(items: T[], key: (item: T) => string[], add: (item: T) => number[]) {
  const out = new Map<string, number[]>();
  for (const item of items) {
    for (const k of key(item)) {
      const sums = out.get(k) ?? [];
      add(item).forEach((n, i) => sums[i] = (sums[i] ?? 0) + n);
      out.set(k, sums);
    }
  }
  return [...out].map(([k, sums]) =>
    [k.replace(/^[^\0]*\0/, ""), ...sums.map((n) => n.toFixed(2))].join(" | ")
  ).sort();
}

for (const dest of [sqliteDestination, postgresDestination("report_custom")]) {
  describe(`${dest.name}: report queries over notes and custom tables`, { skip: dest.skip }, () => {
    let running: RunningSimulator;
    let url: string;
    const postgres = dest.name === "PostgreSQL";

    before(async () => {
      await dest.ready();
      running = await startSimulator({ records: 120, seed: 31 });
      const n = ++counter;
      mkdirSync(join(dir, `d${n}`), { recursive: true });
      url = dest.create(join(dir, `d${n}`), n);
      const statePath = join(dir, `state${n}.json`);
      await syncInto(running, url, statePath, TABLES);
      // Between runs: a note deleted (reconcile marks it), one moved to another company, a
      // project closed and another one's budget raised.
      const sim = running.sim;
      const notes = sim.rows("notes").filter((n) => (n.companies as Rec[]).length > 0);
      sim.remove("notes", String(notes[0].id));
      const company = sim.rows("companies")[3];
      sim.edit("notes", String(notes[1].id), {
        companies: [{ id: company.id, name: company.name }],
      });
      const projects = sim.custom.rows("Projects");
      sim.custom.edit("Projects", String(projects[0].id), Date.now(), { status: "Done" });
      sim.custom.edit("Projects", String(projects[1].id), Date.now(), { budget: "99000.00" });
      await syncInto(running, url, statePath, TABLES);
      await reconcileInto(running, url, ["notes"]);
    });
    after(async () => {
      await running.close();
      await dest.close();
    });

    test("notes per company per month", async () => {
      const sim = running.sim;
      const names = new Map(sim.rows("companies").map((c) => [String(c.id), String(c.name)]));
      const want = tally(
        sim.rows("notes"),
        (n) =>
          [...new Set((n.companies as Rec[]).map((c) => String(c.id)))]
            .filter((id) => names.has(id))
            .map((id) =>
              `${id}\0${names.get(id)} | ${new Date(String(n.created)).toISOString().slice(0, 7)}`
            ),
        () => [1],
      );
      const rows = await dest.query(url, postgres ? NOTES.postgres : NOTES.sqlite);
      assert.ok(rows.length > 10, `${rows.length} rows`);
      assert.deepEqual(lines(rows), want);
    });

    test("a custom table joined to contacts: open projects per contact", async () => {
      const sim = running.sim;
      const contacts = new Map(sim.rows("contacts").map((c) => [String(c.id), c.fullName]));
      const want = tally(
        sim.custom.rows("Projects").filter((p) => p.status !== "Done"),
        (p) =>
          (p.contacts as Rec[]).map((c) => String(c.id)).filter((id) => contacts.has(id))
            .map((id) => `${id}\0${contacts.get(id)}`),
        (p) => [1, Number(p.budget)],
      );
      const rows = await dest.query(url, postgres ? PROJECTS.postgres : PROJECTS.sqlite);
      assert.ok(rows.length > 5, `${rows.length} rows`);
      assert.ok(lines(rows).some((line) => line.includes("99000.00")), "the raised budget");
      assert.deepEqual(lines(rows), want);
    });
  });
}
