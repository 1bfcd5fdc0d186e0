import { after, before, describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { TableName } from "../src/act/tables.ts";
import { type RunningSimulator, startSimulator } from "../src/simulator/mod.ts";
import { tempDir } from "./_helpers.ts";
import { odbcQuery, odbcSkip } from "./_odbc.ts";
import { postgresDestination, sqliteDestination, syncInto } from "./_report_db.ts";

// What report tools see: types through the SQLite ODBC driver in every view, link positions on
// both sinks (PostgreSQL's exact numbers and report role: report_postgres_test.ts).

const dir = tempDir("act-sync-report-types-");
after(() => rmSync(dir, { recursive: true, force: true }));

const TABLES: TableName[] = [
  "contacts",
  "companies",
  "groups",
  "opportunities",
  "activities",
  "activity_types",
  "history",
  "products",
  "opportunity_products",
  "field_labels",
];

/** The views of a SQLite file with the table each one reads. */
function viewsOf(path: string): { view: string; table: string }[] {
  const db = new DatabaseSync(path);
  try {
    const rows = db.prepare("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name")
      .all() as { name: string }[];
    return rows.map(({ name }) => ({ view: name, table: name.replace(/_(live|labeled)$/, "") }));
  } finally {
    db.close();
  }
}

describe("SQLite through the ODBC driver", { skip: odbcSkip() }, () => {
  let running: RunningSimulator;
  let path: string;
  before(async () => {
    running = await startSimulator({ records: 60, seed: 11 });
    path = join(dir, "odbc.db");
    await syncInto(running, `sqlite:${path}`, join(dir, "odbc-state.json"), TABLES);
  });
  after(() => running.close());

  test("every view returns each column with the type the table returns", () => {
    const views = viewsOf(path);
    assert.ok(views.length >= TABLES.length, "a view per table at least");
    const results = odbcQuery(
      path,
      views.flatMap(({ view, table }) => [
        `SELECT * FROM "${view}"`,
        `SELECT * FROM "${table}"`,
      ]),
    );
    const seen = new Map<string, number>();
    const byView = new Map(views.map(({ view }, i) => [view, results[2 * i]]));
    views.forEach(({ view, table }, i) => {
      const [inView, inTable] = [results[2 * i], results[2 * i + 1]];
      const tableTypes = new Map(inTable.columns);
      assert.equal(inView.rows.length > 0, inTable.rows.length > 0, `${view} has rows`);
      for (const [column, type] of inView.columns) {
        seen.set(type, (seen.get(type) ?? 0) + 1);
        if (!tableTypes.has(column)) continue;
        assert.equal(`${view}.${column}: ${type}`, `${view}.${column}: ${tableTypes.get(column)}`);
      }
      if (!view.endsWith("_labeled")) return;
      // A labelled view has the live view's columns in its order, named by their labels.
      const live = byView.get(`${table}_live`)!.columns;
      assert.deepEqual(
        inView.columns.map(([column, type], n) => `${live[n]?.[0]}: ${type} (${column})`),
        live.map(([column, type], n) => `${column}: ${type} (${inView.columns[n]?.[0]})`),
      );
    });
    const labeled = views.filter(({ view }) => view.endsWith("_labeled")).map((v) => v.table);
    for (const table of ["contacts", "opportunities", "history"]) {
      assert.ok(labeled.includes(table), `${table}_labeled is checked`);
    }
    assert.ok((seen.get("datetime") ?? 0) >= 10, "dates read as dates in the views");
    assert.ok((seen.get("float") ?? 0) >= 3, "fractions read as numbers");
    assert.ok((seen.get("bool") ?? 0) >= 3, "booleans read as booleans");
  });

  test("dates are date-times in the views; the sentinel reads as NULL; the table keeps it", () => {
    const [live, table] = odbcQuery(path, [
      `SELECT id, "actualCloseDate", created FROM opportunities_live ORDER BY id`,
      `SELECT id, "actualCloseDate", created FROM opportunities ORDER BY id`,
    ]);
    const types = Object.fromEntries(live.columns);
    assert.equal(types.actualCloseDate, "datetime");
    assert.equal(types.created, "datetime");
    let open = 0;
    live.rows.forEach((row, i) => {
      const raw = table.rows[i];
      assert.equal(row[0], raw[0]);
      assert.deepEqual(Object.keys(row[2] as object), ["datetime"]);
      const sentinel = JSON.stringify(raw[1]).includes("9999-12-31");
      if (sentinel) open++;
      assert.deepEqual(row[1], sentinel ? null : raw[1]);
    });
    assert.ok(open > 0, "some opportunities are open (no close date)");
    const db = new DatabaseSync(path);
    try {
      const [{ n }] = db.prepare(
        `SELECT count(*) AS n FROM opportunities WHERE "actualCloseDate" LIKE '9999-12-31%'`,
      ).all() as { n: number }[];
      assert.equal(n, open, "the table keeps the value as sent");
    } finally {
      db.close();
    }
  });

  test("history durations get a number of minutes", () => {
    for (const view of ["history_live", "history_labeled"]) {
      const [live] = odbcQuery(path, [`SELECT duration, duration_minutes FROM ${view}`]);
      assert.equal(Object.fromEntries(live.columns).duration_minutes, "float", view);
      assert.ok(live.rows.length > 0);
      for (const [duration, minutes] of live.rows) {
        const [h, m, s] = String(duration).split(":").map(Number);
        assert.equal(minutes, h * 60 + m + s / 60, `${view}: ${duration} in minutes`);
      }
    }
  });

  test("link tables carry typed values", () => {
    const [table, view] = odbcQuery(path, [
      `SELECT "isInvited", position FROM opportunity_contacts`,
      `SELECT "isInvited", position FROM opportunity_contacts_live`,
    ]);
    for (const result of [table, view]) {
      assert.deepEqual(result.columns, [["isInvited", "bool"], ["position", "int"]]);
      assert.ok(result.rows.every(([invited]) => invited === false || invited === true));
    }
  });
});

for (const dest of [sqliteDestination, postgresDestination("rtypes")]) {
  describe(`${dest.name}: link positions`, { skip: dest.skip }, () => {
    let running: RunningSimulator;
    let url: string;
    before(async () => {
      await dest.ready();
      running = await startSimulator({ records: 60, seed: 5 });
      url = dest.create(join(dir, `pos-${dest.name}`), 1);
    });
    after(async () => {
      await running.close();
      await dest.close();
    });

    /** Asserts every opportunity's link positions are its array's order. */
    async function assertPositions(): Promise<number> {
      const rows = await dest.query(
        url,
        "SELECT opportunity_id, contact_id, position FROM opportunity_contacts",
      );
      const got = new Map<string, string[]>();
      for (const row of rows.sort((a, b) => Number(a.position) - Number(b.position))) {
        const list = got.get(String(row.opportunity_id)) ?? [];
        list[Number(row.position)] = String(row.contact_id);
        got.set(String(row.opportunity_id), list);
      }
      let many = 0;
      for (const o of running.sim.rows("opportunities")) {
        const want = (o.contacts as { id: string }[]).map((c) => c.id);
        if (want.length > 1) many++;
        assert.deepEqual(got.get(String(o.id)) ?? [], want, `opportunity ${o.id}`);
      }
      return many;
    }

    test("positions equal the array order, also after the array is reordered", async () => {
      await dest.ready();
      const state = join(dir, `pos-state-${dest.name}.json`);
      await syncInto(running, url, state, ["opportunities"]);
      assert.ok(await assertPositions() > 0, "some opportunities have several contacts");
      let reordered = 0;
      for (const o of running.sim.rows("opportunities")) {
        const contacts = o.contacts as unknown[];
        if (contacts.length < 2) continue;
        running.sim.edit("opportunities", String(o.id), { contacts: [...contacts].reverse() });
        reordered++;
      }
      assert.ok(reordered > 0);
      await syncInto(running, url, state, ["opportunities"]);
      await assertPositions();
      const primary = await dest.query(
        url,
        "SELECT count(*) AS n FROM opportunity_contacts_live WHERE position = 0",
      );
      assert.ok(Number(primary[0].n) > 0, "the view shows the position");
    });
  });
}

for (const dest of [sqliteDestination, postgresDestination("rlegacy")]) {
  describe(`${dest.name}: link tables of an older version`, { skip: dest.skip }, () => {
    let running: RunningSimulator;
    let url: string;
    before(async () => {
      await dest.ready();
      running = await startSimulator({ records: 40, seed: 6 });
      url = dest.create(join(dir, `legacy-${dest.name}`), 2);
    });
    after(async () => {
      await running.close();
      await dest.close();
    });

    test("get a position column and keep their rows; changed parents get positions", async () => {
      const state = join(dir, `legacy-state-${dest.name}.json`);
      await syncInto(running, url, state, ["opportunities"]);
      const before = await dest.query(url, "SELECT count(*) AS n FROM opportunity_contacts");
      // What an older version left: no position, every value as text.
      const legacy = dest.name === "SQLite"
        ? [
          "DROP VIEW opportunity_contacts_live",
          `CREATE TABLE old_links (opportunity_id TEXT NOT NULL, contact_id TEXT NOT NULL, ` +
          `"_act_synced" TEXT, "displayName" TEXT, company TEXT, "isInvited" TEXT, ` +
          `PRIMARY KEY (opportunity_id, contact_id))`,
          `INSERT INTO old_links SELECT opportunity_id, contact_id, "_act_synced", ` +
          `"displayName", company, CAST("isInvited" AS TEXT) FROM opportunity_contacts`,
          "DROP TABLE opportunity_contacts",
          "ALTER TABLE old_links RENAME TO opportunity_contacts",
        ]
        : [
          "DROP VIEW opportunity_contacts_live",
          "ALTER TABLE opportunity_contacts DROP COLUMN position",
          `ALTER TABLE opportunity_contacts ALTER COLUMN "isInvited" TYPE text ` +
          `USING CASE WHEN "isInvited" THEN '1' ELSE '0' END`,
        ];
      for (const sql of legacy) await dest.query(url, sql);
      await syncInto(running, url, state, ["opportunities"]);
      assert.deepEqual(
        await dest.query(url, "SELECT count(*) AS n FROM opportunity_contacts"),
        before,
        "every link kept",
      );
      const o = running.sim.rows("opportunities").find((o) =>
        (o.contacts as unknown[]).length > 1
      )!;
      const reversed = [...(o.contacts as { id: string }[])].reverse();
      running.sim.edit("opportunities", String(o.id), { contacts: reversed });
      await syncInto(running, url, state, ["opportunities"]);
      const rows = await dest.query(
        url,
        `SELECT contact_id, position, "isInvited" FROM opportunity_contacts_live ` +
          `WHERE opportunity_id = '${o.id}' ORDER BY position`,
      );
      assert.deepEqual(rows.map((r) => r.contact_id), reversed.map((c) => c.id));
      assert.ok(rows.every((r) => r.isInvited === 0 || r.isInvited === "0"));
    });
  });
}
