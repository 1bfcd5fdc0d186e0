import { after, before, describe, postgresSkip, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createLogger, silentLogger } from "../src/core/log.ts";
import { openSink } from "../src/sink/mod.ts";
import { readState } from "../src/state/mod.ts";
import type { RunResult } from "../src/sync/engine.ts";
import { reconcileTables } from "../src/sync/reconcile.ts";
import { customRecords, recordedCustomSpecs } from "../src/sync/custom.ts";
import { TABLE_NAMES, type TableName } from "../src/act/tables.ts";
import {
  DEFAULT_CUSTOM_ENTITIES,
  EXTRA_CUSTOM_ENTITY,
  type SimulatorOptions,
  startSimulator,
} from "../src/simulator/mod.ts";
import { DatabaseSync } from "node:sqlite";
import { assertMirrors, simulatorClient, syncOnce, tempDir } from "./_helpers.ts";
import { TestDatabase } from "./_postgres.ts";

// Notes and the customer's custom tables, on both sinks: row by row against the simulator,
// through edits, inserts, deletes, a custom table added and one removed between runs.

const PROJECTS = "custom_projects";
const RENTALS = "custom_equipement_rentals_service";
const INSPECTIONS = "custom_site_inspections";
const [PROJECTS_ENTITY, RENTALS_ENTITY] = DEFAULT_CUSTOM_ENTITIES;

const dir = tempDir("act-sync-custom-");
after(() => rmSync(dir, { recursive: true, force: true }));
const testDb = new TestDatabase("custom", { max: 2 });
let counter = 0;

interface Dest {
  name: string;
  skip: string | false;
  url(n: number): string;
  /** Every row of a table or view (`live`: the rows not marked deleted). */
  rows(url: string, table: string, live?: boolean): Promise<Record<string, unknown>[]>;
}

const destinations: Dest[] = [
  {
    name: "SQLite",
    skip: false,
    url: (n) => `sqlite:${join(dir, `c${n}.db`)}`,
    rows: (url, table, live = true) => {
      const db = new DatabaseSync(url.slice("sqlite:".length));
      try {
        const where = live && !table.endsWith("_live") ? " WHERE _act_deleted = 0" : "";
        const rows = db.prepare(`SELECT * FROM "${table}"${where}`).all();
        return Promise.resolve(rows.map((r) => ({ ...r })));
      } finally {
        db.close();
      }
    },
  },
  {
    name: "PostgreSQL",
    skip: postgresSkip(),
    url: (n) => testDb.url(`schema=c${n}`),
    async rows(url, table, live = true) {
      const schema = new URL(url).searchParams.get("schema")!;
      const sql = await testDb.sql();
      const exists = await sql`SELECT 1 FROM information_schema.tables
        WHERE table_schema = ${schema} AND table_name = ${table}`;
      if (exists.length === 0) return [];
      const where = live && !table.endsWith("_live") ? " WHERE NOT _act_deleted" : "";
      return [...await sql.unsafe(`SELECT * FROM "${schema}"."${table}"${where}`)];
    },
  },
];

/** Link pairs `parent|related` of a table's array field, from the simulator's rows. */
function pairsOf(rows: Record<string, unknown>[], field: string): string[] {
  const out = new Set<string>();
  for (const row of rows) {
    for (const item of (row[field] as { id?: unknown }[] | undefined) ?? []) {
      if (item?.id) out.add(`${row.id}|${item.id}`);
    }
  }
  return [...out].sort();
}

async function setup(dest: Dest, options: SimulatorOptions = {}) {
  const running = await startSimulator({ records: 60, seed: 23, ...options });
  const url = dest.url(++counter);
  const statePath = join(dir, `state${counter}.json`);
  const client = simulatorClient(running.url);
  const sim = running.sim;
  const warnings: string[] = [];
  const logger = createLogger({
    level: "WARNING",
    write: (line) => warnings.push(line),
  });
  return {
    sim,
    url,
    warnings,
    async run(tables: readonly string[] = ["notes", "custom_*"], batchSize = 20) {
      return await syncOnce(url, statePath, {
        tables: tables as TableName[],
        batchSize,
        lookbackSeconds: 0,
        source: client,
        logger,
      });
    },
    async reconcile(tables: TableName[]) {
      const sink = await openSink(url);
      try {
        const customs = recordedCustomSpecs(readState(statePath));
        return await reconcileTables({ tables, batchSize: 20, customs }, {
          source: client,
          sink,
          logger: silentLogger(),
          now: Date.now,
        });
      } finally {
        await sink.close();
      }
    },
    /** Rows of a table by id, the live ones. */
    async byId(table: string) {
      const rows = await dest.rows(url, table);
      return new Map(rows.map((r) => [String(r.id), r]));
    },
    /** The destination's link pairs of a link table (its `_live` view). */
    async pairs(link: string, parentColumn: string, relatedColumn: string) {
      const rows = await dest.rows(url, `${link}_live`);
      return rows.map((r) => `${r[parentColumn]}|${r[relatedColumn]}`).sort();
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
  describe(`notes and custom tables, ${dest.name}`, { skip: dest.skip }, () => {
    before(async () => {
      if (dest.name === "PostgreSQL") await testDb.sql();
    });
    after(async () => {
      if (dest.name === "PostgreSQL") await testDb.drop();
    });

    test("notes and custom tables match the simulator row by row through edits, inserts, deletes, an added and a removed custom table", async () => {
      const h = await setup(dest);
      const sim = h.sim;
      try {
        const first = await h.run();
        assertOk(first);
        assert.deepEqual(first.tables.map((t) => t.table), ["notes", RENTALS, PROJECTS]);
        const notes = sim.rows("notes");
        assert.ok(notes.length >= 30, `${notes.length} notes`);
        assert.ok(notes.every((n) => !String(n.noteText).includes("<")), "noteText as text");
        assertMirrors("notes", notes, await h.byId("notes"));
        assertMirrors(PROJECTS, sim.custom.rows(PROJECTS_ENTITY), await h.byId(PROJECTS));
        assertMirrors(RENTALS, sim.custom.rows(RENTALS_ENTITY), await h.byId(RENTALS));
        for (const field of ["contacts", "companies", "groups", "opportunities"]) {
          const singular = { contacts: "contact", companies: "company", groups: "group" }[
            field
          ] ?? "opportunity";
          assert.deepEqual(
            await h.pairs(`note_${field}`, "note_id", `${singular}_id`),
            pairsOf(notes, field),
            `note_${field}`,
          );
          assert.deepEqual(
            await h.pairs(`${RENTALS}_${field}`, `${RENTALS}_id`, `${singular}_id`),
            pairsOf(sim.custom.rows(RENTALS_ENTITY), field),
            `${RENTALS}_${field}`,
          );
        }
        assert.ok(pairsOf(notes, "companies").length > 10 && pairsOf(notes, "groups").length > 0);

        // Between runs: edits, inserts and deletes in every new table, a custom table added in
        // Act!, another one removed.
        const now = Date.now();
        sim.edit("notes", String(notes[3].id), { noteText: "Changed note" });
        const newNote = sim.insert("notes");
        sim.remove("notes", String(notes[7].id));
        const rentals = sim.custom.rows(RENTALS_ENTITY);
        sim.custom.edit(RENTALS_ENTITY, String(rentals[2].id), now, { "Daily Rate": 999 });
        sim.custom.insert(RENTALS_ENTITY, now);
        sim.custom.remove(RENTALS_ENTITY, String(rentals[4].id));
        const projectsBefore = (await h.byId(PROJECTS)).size;
        sim.switches.customEntities = [RENTALS_ENTITY, EXTRA_CUSTOM_ENTITY];
        const second = await h.run();
        assertOk(second);
        assert.deepEqual(second.tables.map((t) => t.table), ["notes", RENTALS, INSPECTIONS]);
        const notesNow = await h.byId("notes");
        assert.equal(notesNow.get(String(notes[3].id))?.noteText, "Changed note");
        assert.ok(notesNow.has(String(newNote.id)));
        assert.equal(
          Number((await h.byId(RENTALS)).get(String(rentals[2].id))?.["Daily Rate"]),
          999,
        );
        assertMirrors(INSPECTIONS, sim.custom.rows(EXTRA_CUSTOM_ENTITY), await h.byId(INSPECTIONS));
        // The removed custom table is kept as it was, reported in the log and the state.
        assert.equal((await h.byId(PROJECTS)).size, projectsBefore);
        assert.ok(
          h.warnings.some((w) => w.includes(`"${PROJECTS_ENTITY}"`) && w.includes(PROJECTS)),
          h.warnings.join("\n"),
        );
        const records = customRecords(h.state());
        assert.equal(records[PROJECTS_ENTITY].table, PROJECTS);
        assert.ok(records[PROJECTS_ENTITY].missing_since);
        assert.equal(records[EXTRA_CUSTOM_ENTITY].table, INSPECTIONS);

        // Deletions are found by reconcile, as in every table read on `edited`.
        const reconciled = await h.reconcile(["notes", RENTALS, INSPECTIONS]);
        assert.deepEqual(reconciled.tables.map((t) => t.status), ["ok", "ok", "ok"]);
        assert.deepEqual(reconciled.tables.map((t) => t.deleted), [1, 1, 0]);
        assertMirrors("notes", sim.rows("notes"), await h.byId("notes"));
        assertMirrors(RENTALS, sim.custom.rows(RENTALS_ENTITY), await h.byId(RENTALS));

        // Listed again: read again under the same name, its edits included.
        sim.switches.customEntities = [...DEFAULT_CUSTOM_ENTITIES];
        const project = sim.custom.rows(PROJECTS_ENTITY)[1];
        sim.custom.edit(PROJECTS_ENTITY, String(project.id), Date.now(), { status: "Reopened" });
        assertOk(await h.run());
        assertMirrors(PROJECTS, sim.custom.rows(PROJECTS_ENTITY), await h.byId(PROJECTS));
        assert.equal(customRecords(h.state())[PROJECTS_ENTITY].missing_since, null);
      } finally {
        await h.close();
      }
    });

    test("notes on a server without OData on them are read whole, deletions marked within the guard", async () => {
      // Nor a plain-text form: the rich text is kept as sent.
      const h = await setup(dest, { switches: { notesOdata: false, notesFormat: false } });
      const sim = h.sim;
      try {
        assertOk(await h.run(["notes"]));
        const notes = sim.rows("notes");
        assertMirrors("notes", notes, await h.byId("notes"));
        assert.ok(
          [...(await h.byId("notes")).values()].every((n) => /^<html>/.test(String(n.noteText))),
        );
        sim.edit("notes", String(notes[1].id), { noteText: "Edited without OData" });
        sim.insert("notes");
        sim.remove("notes", String(notes[2].id));
        sim.remove("notes", String(notes[5].id));
        const second = await h.run(["notes"]);
        assertOk(second);
        assertMirrors("notes", sim.rows("notes"), await h.byId("notes"));
        const all = await dest.rows(h.url, "notes", false);
        assert.equal(all.filter((r) => Number(r._act_deleted)).length, 2, "two marked deleted");
        // More than half gone at once looks like lost rights: nothing is marked.
        for (const note of sim.rows("notes").slice(0, Math.ceil(notes.length * 0.6))) {
          sim.remove("notes", String(note.id));
        }
        assertOk(await h.run(["notes"]));
        assert.equal((await h.byId("notes")).size, notes.length - 1);
        assert.ok(h.warnings.some((w) => w.includes("max_delete_fraction")), h.warnings.join());
      } finally {
        await h.close();
      }
    });

    test("notes and each custom table get a labelled view with the labels of Act!'s metadata", async () => {
      const h = await setup(dest);
      try {
        // Notes answer with fields here (Premium Cloud sends an empty list: the default).
        h.sim.switches.metadataEmpty = [];
        h.sim.metadata.fields.note = [
          { name: "noteText", label: "Regarding", type: "Memo", custom: false },
          { name: "isPrivate", label: "Private", type: "YesNo", custom: false },
        ];
        assertOk(await h.run(["notes", "custom_*", "field_labels"]));
        const labels = await dest.rows(h.url, "field_labels");
        const of = (table: string) =>
          labels.filter((r) => r.table_name === table)
            .map((r) => `${r.entity_type}|${r.field_name}|${r.label}|${r.column_name}`).sort();
        for (const [table, entity] of [[PROJECTS, PROJECTS_ENTITY], [RENTALS, RENTALS_ENTITY]]) {
          const want = h.sim.custom.fields(entity).map((f) =>
            `${entity}|${f.name}|${f.label}|${f.name}`
          );
          assert.deepEqual(of(table), want.sort(), table);
        }
        assert.deepEqual(of("notes"), [
          "note|isPrivate|Private|isPrivate",
          "note|noteText|Regarding|noteText",
        ]);
        // The views carry the labels, over the live rows.
        const projects = await dest.rows(h.url, `${PROJECTS}_labeled`, false);
        const truth = h.sim.custom.rows(PROJECTS_ENTITY);
        assert.equal(projects.length, truth.length);
        const status = new Map(truth.map((r) => [String(r.id), r.status]));
        for (const row of projects) {
          assert.equal(row["Project Status"], status.get(String(row.id)));
          for (const key of ["Project Name", "Budget", "Due Date"]) assert.ok(key in row, key);
          assert.ok(!("status" in row));
        }
        const rentals = await dest.rows(h.url, `${RENTALS}_labeled`, false);
        assert.ok(rentals.length > 0 && "Equipment" in rentals[0] && "Daily Rate" in rentals[0]);
        const notes = await dest.rows(h.url, "notes_labeled", false);
        assert.equal(notes.length, h.sim.rows("notes").length);
        assert.ok("Regarding" in notes[0] && "Private" in notes[0] && !("noteText" in notes[0]));
        assert.deepEqual(h.warnings, []);
      } finally {
        await h.close();
      }
    });

    test("a custom table without metadata gets its labelled view with column names, no warning", async () => {
      const h = await setup(dest);
      try {
        h.sim.switches.customMetadata = false;
        assertOk(await h.run(["custom_*", "field_labels"]));
        const labels = await dest.rows(h.url, "field_labels");
        assert.ok(labels.every((r) => !String(r.table_name).startsWith("custom_")));
        const projects = await dest.rows(h.url, `${PROJECTS}_labeled`, false);
        assert.equal(projects.length, h.sim.custom.rows(PROJECTS_ENTITY).length);
        assert.ok("status" in projects[0] && "budget" in projects[0]);
        assert.deepEqual(h.warnings, []);
      } finally {
        await h.close();
      }
    });

    test("a no-change run reads notes and each custom table with a request or two", async () => {
      const h = await setup(dest);
      try {
        const builtin = TABLE_NAMES.filter((t) => t !== "notes");
        assertOk(await h.run([...TABLE_NAMES, "custom_*"], 1000));
        let before = h.sim.stats.dataRequests;
        assertOk(await h.run(builtin, 1000));
        const without = h.sim.stats.dataRequests - before;
        before = h.sim.stats.dataRequests;
        const idle = await h.run([...TABLE_NAMES, "custom_*"], 1000);
        assertOk(idle);
        const withNew = h.sim.stats.dataRequests - before;
        const counts = Object.fromEntries(idle.tables.map((t) => [t.table, t.requests]));
        console.log(
          `no-change run: ${without} requests without notes and custom tables, ${withNew} with ` +
            `them (per table ${JSON.stringify(counts)}, and 1 for the list of custom tables)`,
        );
        assert.ok(counts.notes <= 2 && counts[PROJECTS] <= 2 && counts[RENTALS] <= 2);
        // The list of custom tables, notes' 2, and each custom table's 2 plus its field labels'
        // and picklists' requests.
        assert.ok(withNew - without <= 1 + 2 + 2 * 4, `${without} → ${withNew}`);
        assert.equal(
          idle.tables.reduce((n, t) => n + t.changes.inserted + t.changes.updated, 0),
          0,
        );
      } finally {
        await h.close();
      }
    });
  });
}
