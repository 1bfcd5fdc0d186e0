import { after, before, describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../src/core/log.ts";
import type { TableName } from "../src/act/tables.ts";
import { type RunningSimulator, startSimulator } from "../src/simulator/mod.ts";
import { METADATA_TYPES } from "../src/sync/metadata.ts";
import { simulatorClient, syncOnce, tempDir } from "./_helpers.ts";
import { postgresDestination, reconcileInto, type Rows, sqliteDestination } from "./_report_db.ts";

// Act!'s field labels and picklists against the simulator's metadata, row by row, on both
// sinks; the labelled views and (PostgreSQL) the column comments; a label renamed between runs;
// metadata that fails, answers empty or comes in another shape; and the reporting query
// "contacts by a custom field's label" of docs/reporting.md.

const dir = tempDir("act-sync-labels-");
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

type Rec = Record<string, unknown>;

const TABLES: readonly TableName[] = [
  "contacts",
  "companies",
  "opportunities",
  "groups",
  "users",
  "field_labels",
  "picklist_items",
];

/** The docs' query: contacts per item of the drop-down list of the field labelled 'Industry'. */
const CONTACTS_BY_LABEL = `SELECT p.value AS "Industry", count(c.id) AS contacts
FROM field_labels_live AS f
JOIN picklist_items_live AS p ON p.table_name = f.table_name AND p.field_name = f.field_name
LEFT JOIN contacts_labeled AS c ON c."Industry" = p.value
WHERE f.table_name = 'contacts' AND f.label = 'Industry'
GROUP BY p.value, p.item_order
ORDER BY p.item_order`;

for (const dest of [sqliteDestination, postgresDestination("labels")]) {
  describe(`${dest.name}: field labels, picklists and labelled views`, { skip: dest.skip }, () => {
    let running: RunningSimulator;
    let url: string;
    let state: string;
    let log: string[] = [];

    async function sync(tables: readonly TableName[] = TABLES) {
      log = [];
      const logger = createLogger({ level: "INFO", write: (line) => log.push(line) });
      const result = await syncOnce(url, state, {
        tables,
        source: simulatorClient(running.url),
        logger,
      });
      for (const t of result.tables) assert.equal(t.status, "ok", `${t.table}: ${t.error}`);
      return new Map(result.tables.map((t) => [t.table, t]));
    }

    const query = (sql: string): Promise<Rows> => dest.query(url, sql);

    /** The column names of a view or table (from a row: every table here has rows). */
    async function columnsOf(name: string): Promise<string[]> {
      const rows = await query(`SELECT * FROM ${name} LIMIT 1`);
      assert.equal(rows.length, 1, name);
      return Object.keys(rows[0]);
    }

    /** `field_labels` equals the simulator's fields (of the types that answer). */
    async function assertLabels(): Promise<void> {
      const want: string[] = [];
      for (const [type, fields] of Object.entries(running.sim.metadata.fields)) {
        const table = METADATA_TYPES[type];
        for (const f of fields) {
          want.push([table, f.name, f.label, f.type, f.custom ? 1 : 0].join("|"));
        }
      }
      const rows = await query(
        `SELECT table_name, field_name, label, act_type, is_custom FROM field_labels_live`,
      );
      const got = rows.map((r) =>
        [r.table_name, r.field_name, r.label, r.act_type, Number(r.is_custom)].join("|")
      );
      assert.deepEqual(got.sort(), want.sort());
    }

    before(async () => {
      await dest.ready();
      running = await startSimulator({ records: 60, seed: 9 });
      const n = ++counter;
      url = dest.create(join(dir, `d${n}`), n);
      state = join(dir, `state${n}.json`);
      await sync();
    });
    after(async () => {
      await running.close();
      await dest.close();
    });

    test("field_labels holds every field with its label, type, source path and column", async () => {
      await assertLabels();
      const [user6] = await query(
        `SELECT source_path, column_name, act_column, label FROM field_labels_live ` +
          `WHERE id = 'contacts/user6'`,
      );
      assert.deepEqual(user6, {
        source_path: "customFields/user6",
        column_name: "customFields_user6",
        act_column: "REFERREDBY",
        label: "Referred By",
      });
      const [city] = await query(
        `SELECT source_path, column_name FROM field_labels_live ` +
          `WHERE id = 'contacts/businessAddress.city'`,
      );
      assert.deepEqual(city, {
        source_path: "businessAddress/city",
        column_name: "businessAddress_city",
      });
      // A field no record has sent has no column (yet).
      const [unused] = await query(
        `SELECT source_path, column_name FROM field_labels_live WHERE id = 'contacts/user30'`,
      );
      assert.deepEqual(unused, { source_path: null, column_name: null });
    });

    test("picklist_items holds every item of every field's list, in order", async () => {
      const rows = await query(
        `SELECT table_name, field_name, list_id, value, item_order FROM picklist_items_live`,
      );
      const got = rows.map((r) =>
        [r.table_name, r.field_name, r.list_id, r.value, Number(r.item_order)].join("|")
      ).sort();
      const want: string[] = [];
      for (const [type, fields] of Object.entries(running.sim.metadata.fields)) {
        for (const f of fields) {
          if (!f.list) continue;
          const served = await (await fetchJson(`/api/metadata/${type}/picklists`)) as Rec[];
          const list = served.find((p) => p.fieldName === f.name)!;
          const items = await fetchJson(`/api/metadata/drop-down/lists/${list.id}/items`) as Rec[];
          for (const item of items) {
            want.push(
              [METADATA_TYPES[type], f.name, list.id, item.value, item.sortOrder].join("|"),
            );
          }
        }
      }
      assert.ok(want.length > 20);
      assert.deepEqual(got, want.sort());
    });

    test("the labelled view carries the labels, unique, and hides deleted rows", async () => {
      const columns = await columnsOf("contacts_labeled");
      for (const label of ["First Name", "Referred By", "Territory", "Territory (2)", "City"]) {
        assert.ok(columns.includes(label), label);
      }
      assert.ok(columns.includes("middleName")); // no label: its column name
      assert.ok(!columns.includes("customFields_user6"));
      assert.equal(columns.length, (await columnsOf("contacts_live")).length);
      // Two fields labelled "Territory": the one whose column comes later in the table gets
      // " (2)" (columns are added in the order values first arrive).
      const order = await columnsOf("contacts");
      const [first, second] = ["customFields_user1", "customFields_territory"].sort((a, b) =>
        order.indexOf(a) - order.indexOf(b)
      );
      const live = await query(
        `SELECT id, "customFields_user6", "${first}" AS a, "${second}" AS b FROM contacts_live`,
      );
      const labeled = await query(
        `SELECT id, "Referred By", "Territory", "Territory (2)" FROM contacts_labeled`,
      );
      const byId = new Map(labeled.map((r) => [r.id, r]));
      assert.equal(labeled.length, live.length);
      for (const row of live) {
        assert.equal(byId.get(row.id)?.["Referred By"], row.customFields_user6);
        assert.equal(byId.get(row.id)?.["Territory"], row.a);
        assert.equal(byId.get(row.id)?.["Territory (2)"], row.b);
      }
      // A contact deleted in Act! (marked by reconcile) leaves the view.
      const gone = String(running.sim.rows("contacts")[0].id);
      running.sim.remove("contacts", gone);
      await reconcileInto(running, url, ["contacts"]);
      const left = await query(`SELECT id FROM contacts_labeled WHERE id = '${gone}'`);
      assert.equal(left.length, 0);
      assert.ok((await columnsOf("companies_labeled")).includes("Rating"));
      assert.ok((await columnsOf("opportunities_labeled")).includes("Quarter"));
      assert.ok((await columnsOf("users_labeled")).includes("displayName"));
    });

    test("a no-change run rebuilds no view and writes no label", async () => {
      const tables = await sync();
      assert.deepEqual(log.filter((line) => /labelled view/.test(line)), []);
      for (const name of ["field_labels", "picklist_items"] as const) {
        const t = tables.get(name)!;
        assert.equal(t.changes.inserted + t.changes.updated, 0, name);
      }
      // 8 entity types; picklists of the 4 with fields; 6 drop-down lists.
      assert.equal(tables.get("field_labels")!.requests, 8);
      assert.equal(tables.get("picklist_items")!.requests, 4 + 6);
    });

    test("a label renamed in Act! renames the view's column, never the table's", async () => {
      running.sim.metadata.renameLabel("contact", "user6", "Referral Source");
      await sync();
      await assertLabels();
      const columns = await columnsOf("contacts_labeled");
      assert.ok(columns.includes("Referral Source"));
      assert.ok(!columns.includes("Referred By"));
      assert.ok((await columnsOf("contacts")).includes("customFields_user6"));
      assert.equal(log.filter((line) => /contacts_labeled rebuilt/.test(line)).length, 1);
      if (dest.name === "PostgreSQL") {
        const [comment] = await query(
          `SELECT col_description('contacts'::regclass, a.attnum) AS label FROM pg_attribute a ` +
            `WHERE a.attrelid = 'contacts'::regclass AND a.attname = 'customFields_user6'`,
        );
        assert.equal(comment.label, "Referral Source");
        const [first] = await query(
          `SELECT col_description('contacts'::regclass, a.attnum) AS label FROM pg_attribute a ` +
            `WHERE a.attrelid = 'contacts'::regclass AND a.attname = 'firstName'`,
        );
        assert.equal(first.label, "First Name");
      }
    });

    test("metadata that fails or answers empty keeps the last labels; data tables still sync", async () => {
      // Few enough rows that the mass-delete guard would not keep them on its own.
      running.sim.inject({ kind: "status", status: 403, path: "/api/metadata/group/fields" });
      running.sim.switches.metadataEmpty = ["opportunity", "activity"];
      const edited = String(running.sim.rows("contacts")[1].id);
      running.sim.edit("contacts", edited, { firstName: "Renamed" });
      try {
        const tables = await sync();
        assert.equal(tables.get("contacts")!.changes.updated, 1);
        assert.ok(log.some((l) => /WARNING .*Cannot read the field labels of group/.test(l)));
        await assertLabels(); // group's (failed) and opportunity's (empty) labels are kept
        assert.ok((await columnsOf("groups_labeled")).includes("Group Name"));
        assert.ok((await columnsOf("opportunities_labeled")).includes("Quarter"));
      } finally {
        running.sim.switches.metadataEmpty = ["activity", "history", "note", "user", "task"];
      }
    });

    test("fields removed in Act! lose their rows and their labels", async () => {
      const fields = running.sim.metadata.fields.contact;
      const removed = fields.splice(fields.findIndex((f) => f.name === "user10"), 1);
      try {
        await sync();
        await assertLabels();
        const columns = await columnsOf("contacts_labeled");
        assert.ok(!columns.includes("Tier"));
        assert.ok(columns.includes("customFields_user10"));
        const items = await query(
          `SELECT id FROM picklist_items_live WHERE field_name = 'user10'`,
        );
        assert.equal(items.length, 0);
      } finally {
        fields.push(...removed);
      }
      await sync();
      assert.ok((await columnsOf("contacts_labeled")).includes("Tier"));
    });

    test("a column whose type widens under a labelled view is widened, the view rebuilt", async () => {
      const company = String(running.sim.rows("companies")[0].id);
      running.sim.edit("companies", company, { numberOfEmployees: "about 40", region: "West" });
      await sync();
      const [row] = await query(
        `SELECT "numberOfEmployees" AS n FROM companies_labeled WHERE id = '${company}'`,
      );
      assert.equal(row.n, "about 40");
      assert.ok((await columnsOf("companies_labeled")).includes("Region"));
    });

    test("metadata in another shape gives the same labels and items", async () => {
      const before = await query(
        `SELECT id, value, item_order FROM picklist_items_live ORDER BY id`,
      );
      running.sim.switches.metadataShape = "alternate";
      try {
        const tables = await sync();
        await assertLabels();
        const after = await query(
          `SELECT id, value, item_order FROM picklist_items_live ORDER BY id`,
        );
        assert.deepEqual(
          after.map((r) => `${r.id}|${r.value}|${Number(r.item_order) - 1}`),
          before.map((r) => `${r.id}|${r.value}|${r.item_order}`),
        );
        assert.equal(tables.get("picklist_items")!.requests, 4); // items embedded
      } finally {
        running.sim.switches.metadataShape = "swagger";
      }
      await sync();
    });

    test("$metadata and /swagger answering 403 change nothing: they are never asked", async () => {
      running.sim.switches.docsForbidden = true;
      const asked: string[] = [];
      const stop = running.sim.onRequest((info) => asked.push(info.path));
      try {
        assert.equal((await fetchRaw("/api/$metadata")).status, 403);
        asked.length = 0;
        await sync();
        assert.deepEqual(asked.filter((p) => /\$metadata|swagger/i.test(p)), []);
        await assertLabels();
      } finally {
        stop();
        running.sim.switches.docsForbidden = false;
      }
    });

    test("the docs' query: contacts by a custom field's label", async () => {
      const contacts = running.sim.rows("contacts");
      const field = running.sim.metadata.fields.contact.find((f) => f.label === "Industry")!;
      const items = await fetchJson(`/api/metadata/drop-down/lists/12/items`) as Rec[];
      assert.equal(field.list, "industry");
      const want = items.map((item) => ({
        Industry: item.value,
        contacts: contacts.filter((c) => (c.customFields as Rec)[field.name] === item.value)
          .length,
      }));
      assert.ok(want.filter((w) => w.contacts > 0).length > 2);
      const got = (await query(CONTACTS_BY_LABEL)).map((r) => ({
        Industry: r.Industry,
        contacts: Number(r.contacts),
      }));
      assert.deepEqual(got, want);
    });

    /** A GET to the simulator with a fresh token. */
    async function fetchRaw(path: string): Promise<Response> {
      const auth = await fetch(`${running.url}/authorize`, {
        headers: {
          authorization: `Basic ${btoa("demo:demo")}`,
          "act-database-name": "ActDemo",
        },
      });
      const token = await auth.text();
      return await fetch(`${running.url}${path}`, {
        headers: { authorization: `Bearer ${token}`, "act-database-name": "ActDemo" },
      });
    }

    async function fetchJson(path: string): Promise<unknown> {
      const response = await fetchRaw(path);
      assert.equal(response.status, 200, path);
      return await response.json();
    }
  });
}
