import { after, before, describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { openSink } from "../src/sink/mod.ts";
import { noChanges, pagesOf } from "../src/sink/sink.ts";
import { flattenPage } from "../src/sync/flatten.ts";
import { RELATIONS } from "../src/sync/relations.ts";
import type { TableName } from "../src/act/tables.ts";
import { type RunningSimulator, startSimulator } from "../src/simulator/mod.ts";
import { tempDir } from "./_helpers.ts";
import {
  postgresDestination,
  reconcileInto,
  type Rows,
  sqliteDestination,
  syncInto,
} from "./_report_db.ts";

// Link tables, `_live` views, indexes and reference types, against the simulator, in SQLite
// and (when ACT_SYNC_TEST_PG is set) PostgreSQL.

const dir = tempDir("act-sync-links-");
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

type Record_ = Record<string, unknown>;

/**
 * A link row as the table should hold it: the pair, the item's place in the array and its other
 * fields with their types (booleans as 0/1, as the destinations are read here).
 */
function linkRow(
  parentColumn: string,
  relatedColumn: string,
  parent: string,
  item: Record_,
  position: number,
) {
  const row: Record_ = { [parentColumn]: parent, [relatedColumn]: String(item.id), position };
  for (const [key, value] of Object.entries(item)) {
    if (key === "id") continue;
    row[key] = typeof value === "boolean" ? (value ? 1 : 0) : value;
  }
  return row;
}

/**
 * Rows sorted by their JSON, `_act_synced` and NULLs left out (a column another item brought is
 * NULL for the rest), columns in name order.
 */
function normal(rows: Rows): string[] {
  return rows.map((row) => {
    const sorted: Record_ = {};
    for (const key of Object.keys(row).sort()) {
      if (key !== "_act_synced" && row[key] !== null) sorted[key] = row[key];
    }
    return JSON.stringify(sorted);
  }).sort();
}

/** What every link table of `table` should hold for these parent records. */
function expectedLinks(table: TableName, parents: readonly Record_[]): Map<string, Rows> {
  const out = new Map<string, Rows>();
  for (const link of RELATIONS[table].links) {
    const rows: Rows = [];
    for (const parent of parents) {
      const seen = new Set<string>(); // one row per pair: the first item with that id
      for (const [position, item] of ((parent[link.field] ?? []) as Record_[]).entries()) {
        if (seen.has(String(item.id))) continue;
        seen.add(String(item.id));
        rows.push(
          linkRow(link.parentColumn, link.relatedColumn, String(parent.id), item, position),
        );
      }
    }
    out.set(link.table, rows);
  }
  return out;
}

for (const dest of [sqliteDestination, postgresDestination("links")]) {
  describe(`${dest.name}: link tables, views, indexes`, { skip: dest.skip }, () => {
    let running: RunningSimulator;
    let url: string;
    let statePath: string;
    const query = (sql: string) => dest.query(url, sql);
    const tables: TableName[] = ["opportunities", "activities", "activity_types", "history"];

    before(async () => {
      await dest.ready();
      running = await startSimulator({ records: 120, seed: 7 });
      const n = ++counter;
      url = dest.create(join(dir, `d${n}`), n);
      statePath = join(dir, `state${n}.json`);
    });
    after(async () => {
      await running.close();
      await dest.close();
    });

    async function assertLinks(table: TableName, parents: readonly Record_[]): Promise<void> {
      for (const [link, want] of expectedLinks(table, parents)) {
        const got = await query(`SELECT * FROM ${link}`);
        assert.deepEqual(normal(got), normal(want), `${link} matches the arrays`);
      }
    }

    test("link tables match the JSON arrays, after edits and deletes too", async () => {
      const sim = running.sim;
      await syncInto(running, url, statePath, tables);
      const opportunities = sim.rows("opportunities");
      assert.ok(
        opportunities.some((o) => (o.contacts as unknown[]).length > 1) &&
          opportunities.some((o) => (o.groups as unknown[]).length > 0),
        "the simulator links opportunities to contacts and groups",
      );
      await assertLinks("opportunities", opportunities);
      await assertLinks("activities", sim.rows("activities"));
      const history = sim.rows("history");
      for (const field of ["contacts", "companies", "opportunities", "groups"]) {
        assert.ok(
          history.some((h) => (h[field] as unknown[]).length > 0),
          `the simulator links history to ${field}`,
        );
      }
      await assertLinks("history", history);
      // Every array of related records has its link table (the list, not RELATIONS).
      const linkTables = (table: TableName) => RELATIONS[table].links.map((l) => l.table).sort();
      assert.deepEqual(linkTables("opportunities"), [
        "opportunity_companies",
        "opportunity_contacts",
        "opportunity_groups",
      ]);
      for (const [table, parent] of [["activities", "activity"], ["history", "history"]] as const) {
        assert.deepEqual(
          linkTables(table),
          ["companies", "contacts", "groups", "opportunities"].map((r) => `${parent}_${r}`),
        );
      }
      const historyGroups = await query("SELECT history_id, group_id FROM history_groups");
      assert.ok(historyGroups.length > 0, "history_groups is filled");

      // Change arrays: replace, empty, add; link an activity to an opportunity; delete a parent.
      const withContacts = opportunities.filter((o) => (o.contacts as unknown[]).length > 1);
      const [a, gone] = withContacts;
      const contact = { id: "0c0c0c0c-0000-4000-8000-000000000001", displayName: "New Person" };
      // daysOpen turns text: the column is widened under the views (SQLite rebuilds the table).
      sim.edit("opportunities", String(a.id), {
        contacts: [contact],
        companies: [],
        daysOpen: "many",
      });
      const b = opportunities.find((o) => (o.companies as unknown[]).length > 0 && o !== a)!;
      sim.edit("opportunities", String(b.id), {
        groups: [{ id: "9a9a9a9a-0000-4000-8000-000000000002", name: "Partners" }],
        companies: [],
      });
      const activity = sim.rows("activities")[5];
      sim.edit("activities", String(activity.id), {
        opportunities: [{ id: String(b.id), name: String(b.name) }],
        contacts: [],
      });
      assert.equal(sim.remove("opportunities", String(gone.id)), true);
      const [h1, h2, goneHistory] = history.filter((h) => (h.contacts as unknown[]).length > 0);
      sim.edit("history", String(h1.id), {
        contacts: [contact, contact],
        companies: [],
        opportunities: [{ id: String(b.id), name: String(b.name) }],
      });
      sim.edit("history", String(h2.id), {
        groups: [{ id: "9a9a9a9a-0000-4000-8000-000000000003", name: "Prospects" }],
        contacts: [],
      });
      assert.equal(sim.remove("history", String(goneHistory.id)), true);
      await syncInto(running, url, statePath, tables);
      await reconcileInto(running, url, ["opportunities", "history"]);

      // The deleted parent keeps its last links in the table (like its row and JSON column);
      // the views leave both out.
      await assertLinks("opportunities", [...sim.rows("opportunities"), gone]);
      await assertLinks("activities", sim.rows("activities"));
      await assertLinks("history", [...sim.rows("history"), goneHistory]);
      const historyLive = await query("SELECT history_id, contact_id FROM history_contacts_live");
      assert.ok(!historyLive.some((r) => r.history_id === goneHistory.id));
      assert.deepEqual(
        historyLive.filter((r) => r.history_id === h1.id).map((r) => r.contact_id),
        [contact.id],
        "one row per pair",
      );
      const liveWant = expectedLinks("opportunities", sim.rows("opportunities"));
      const live = await query("SELECT * FROM opportunity_contacts_live");
      // The view shows empty strings as NULL.
      const want = liveWant.get("opportunity_contacts")!.map((row) =>
        Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === "" ? null : v]))
      );
      assert.deepEqual(normal(live), normal(want), "live links: live parents only");
      const ids = await query("SELECT id FROM opportunities_live");
      assert.equal(ids.length, sim.count("opportunities"));
      assert.ok(!ids.some((r) => r.id === gone.id), "the view hides the deleted opportunity");
      const all = await query(`SELECT id FROM opportunities WHERE id = '${gone.id}'`);
      assert.equal(all.length, 1, "the table keeps it, marked deleted");
      const [widened] = await query(
        `SELECT "daysOpen" FROM opportunities_live WHERE id = '${a.id}'`,
      );
      assert.equal(widened.daysOpen, "many");
      const linked = await query(
        `SELECT * FROM activity_opportunities WHERE activity_id = '${activity.id}'`,
      );
      assert.deepEqual(linked.map((r) => [r.activity_id, r.opportunity_id]), [
        [activity.id, b.id],
      ]);
    });

    test("views show empty strings and the no-date sentinel as NULL; tables keep them", async () => {
      const open = running.sim.rows("opportunities").find((o) =>
        o.status === 0 && o.competitor === ""
      )!;
      const [table] = await query(
        `SELECT competitor, "actualCloseDate" FROM opportunities WHERE id = '${open.id}'`,
      );
      assert.equal(table.competitor, "");
      assert.match(String(table.actualCloseDate), /^9999-12-31T00:00:00/);
      const [view] = await query(
        `SELECT competitor, "actualCloseDate", name FROM opportunities_live WHERE id = '${open.id}'`,
      );
      assert.deepEqual(view, { competitor: null, actualCloseDate: null, name: open.name });
      const closed = running.sim.rows("opportunities").find((o) => o.status === 1)!;
      const [won] = await query(
        `SELECT "actualCloseDate" FROM opportunities_live WHERE id = '${closed.id}'`,
      );
      assert.equal(
        new Date(String(won.actualCloseDate)).getTime(),
        Date.parse(String(closed.actualCloseDate)),
      );
    });

    test("indexes on reference, cursor and link id columns", async () => {
      const want: [string, string][] = [
        ["opportunities", "managerID"],
        ["opportunities", "recordManagerID"],
        ["opportunities", "edited"],
        ["activities", "activityTypeId"],
        ["activities", "scheduledForID"],
        ["activities", "edited"],
        ["opportunity_contacts", "contact_id"],
        ["opportunity_contacts", "opportunity_id"],
        ["activity_opportunities", "opportunity_id"],
        ["activity_opportunities", "activity_id"],
      ];
      const have = new Set<string>();
      if (dest.name === "SQLite") {
        const indexes = await query(
          "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'",
        );
        for (const { name, tbl_name } of indexes) {
          const [first] = await query(`SELECT name FROM pragma_index_info('${name}')`);
          have.add(`${tbl_name}.${first.name}`);
        }
      } else {
        const indexes = await query(
          "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = current_schema()",
        );
        for (const { tablename, indexdef } of indexes) {
          const first = /\(("?)([^",)]+)\1/.exec(String(indexdef))![2];
          have.add(`${tablename}.${first}`);
        }
      }
      for (const [table, column] of want) {
        assert.ok(have.has(`${table}.${column}`), `an index on ${table}.${column}`);
      }
    });

    test("columns that join have the same type on both sides", async () => {
      const types = dest.name === "SQLite"
        ? await query(
          "SELECT 'activities' AS t, type FROM pragma_table_info('activities') " +
            "WHERE name = 'activityTypeId' UNION ALL " +
            "SELECT 'activity_types', type FROM pragma_table_info('activity_types') " +
            "WHERE name = 'id'",
        )
        : await query(
          "SELECT table_name AS t, data_type AS type FROM information_schema.columns WHERE " +
            "table_schema = current_schema() AND ((table_name = 'activities' AND " +
            "column_name = 'activityTypeId') OR (table_name = 'activity_types' AND " +
            "column_name = 'id'))",
        );
      assert.equal(types.length, 2);
      assert.equal(String(types[0].type).toLowerCase(), "text");
      assert.equal(String(types[1].type).toLowerCase(), "text");
      const [{ n }] = await query(
        "SELECT count(*) AS n FROM activities_live a JOIN activity_types_live t " +
          `ON t.id = a."activityTypeId"`,
      );
      assert.equal(Number(n), running.sim.count("activities"), "every activity finds its type");
    });

    test("a database of the previous version is migrated by a run that writes no row", async () => {
      const n = ++counter;
      const old = dest.create(join(dir, `d${n}`), n);
      const sink = await openSink(old);
      try {
        // As the previous version wrote it: no shape, activityTypeId an integer column.
        await sink.write(
          "activities",
          flattenPage(running.sim.rows("activities")),
          "2020-01-01T00:00:00Z",
        );
      } finally {
        await sink.close();
      }
      const state = join(dir, `state${n}.json`);
      // A run that writes no row (every page write dropped) still migrates the table.
      await syncInto(running, old, state, ["activities"], (sink) => ({
        ...sink,
        description: sink.description,
        write: (_table, page) =>
          Promise.resolve({
            written: [...pagesOf(page)].reduce((n, chunk) => n + chunk.rows.length, 0),
            changes: noChanges(),
            newColumns: [],
            widenedColumns: [],
          }),
        count: (t) => sink.count(t),
        ids: (t) => sink.ids(t),
        markDeleted: (t, i, a) => sink.markDeleted(t, i, a),
        reject: (t, r, a) => sink.reject(t, r, a),
        unreject: (t, k) => sink.unreject(t, k),
        rejected: () => sink.rejected(),
        prepare: (t, s, a) => sink.prepare(t, s, a),
        close: () => sink.close(),
      }));
      const rows = await dest.query(
        old,
        `SELECT id, "activityTypeId" FROM activities_live ORDER BY id`,
      );
      assert.equal(rows.length, running.sim.count("activities"));
      const byId = new Map(running.sim.rows("activities").map((a) => [a.id, a.activityTypeId]));
      for (const row of rows) assert.equal(row.activityTypeId, String(byId.get(row.id)));
    });
  });
}
