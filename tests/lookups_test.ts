import { after, before, describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../src/core/log.ts";
import { LOOKUP_TABLE_NAMES, type TableName } from "../src/act/tables.ts";
import { type RunningSimulator, startSimulator } from "../src/simulator/mod.ts";
import { simulatorClient, syncOnce, tempDir } from "./_helpers.ts";
import { postgresDestination, type Rows, sqliteDestination } from "./_report_db.ts";

// The lookup tables against the simulator's lists, row by row, on both sinks: after a first
// run, after rows inserted, edited and removed between runs, under the mass-delete guard and
// with endpoints that answer 404.

const dir = tempDir("act-sync-lookups-");
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

type Rec = Record<string, unknown>;

const TABLES: readonly TableName[] = LOOKUP_TABLE_NAMES;

for (const dest of [sqliteDestination, postgresDestination("lookups")]) {
  describe(`${dest.name}: the lookup tables`, { skip: dest.skip }, () => {
    let running: RunningSimulator;
    let url: string;
    let state: string;
    let warnings: string[] = [];

    /** One run of the lookup tables; returns the results by table. */
    async function sync() {
      warnings = [];
      const logger = createLogger({
        level: "WARNING",
        write: (line) => warnings.push(line),
      });
      const result = await syncOnce(url, state, {
        tables: TABLES,
        source: simulatorClient(running.url),
        logger,
      });
      for (const t of result.tables) assert.equal(t.status, "ok", `${t.table}: ${t.error}`);
      return new Map(result.tables.map((t) => [t.table, t]));
    }

    const live = (sql: string): Promise<Rows> => dest.query(url, sql);

    /** Rows of a query sorted by id, `numbers` made numbers (PostgreSQL sends bigint as text). */
    async function sortedRows(sql: string, numbers: string[] = []): Promise<Rows> {
      const rows = (await live(sql)).map((row) => {
        const out = { ...row };
        for (const key of numbers) out[key] = out[key] === null ? null : Number(out[key]);
        return out;
      });
      return rows.sort((a, b) => String(a.id) < String(b.id) ? -1 : 1);
    }

    /** Every lookup table of the destination equals the simulator's lists. */
    async function assertMirrors(): Promise<void> {
      const lookups = running.sim.metadata.lookups;
      const sorted = (rows: Rec[]) =>
        [...rows].sort((a, b) => String(a.id) < String(b.id) ? -1 : 1);
      assert.deepEqual(
        await sortedRows(`SELECT id, name, description FROM opportunity_processes_live`),
        sorted(lookups.opportunity_processes).map((p) => ({
          id: p.id,
          name: p.name,
          description: p.description,
        })),
      );
      assert.deepEqual(
        await sortedRows(
          `SELECT id, name, number, probability, process_id FROM opportunity_stages_live`,
          ["number", "probability"],
        ),
        sorted(lookups.opportunity_stages).map((s) => ({
          id: s.id,
          name: s.name,
          number: s.number,
          probability: s.probability,
          process_id: (s.process as Rec).id,
        })),
      );
      const types = await live(
        `SELECT id, name, "activityTypeId", "activityTypeName" FROM history_types_live`,
      );
      assert.deepEqual(
        types.map((t) => `${t.id}|${t.name}|${t.activityTypeId}|${t.activityTypeName}`).sort(),
        lookups.history_types.map((t) =>
          `${t.id}|${t.name}|${t.activityTypeId}|${t.activityTypeName}`
        ).sort(),
      );
      assert.deepEqual(
        await sortedRows(`SELECT id, name FROM teams_live`),
        sorted(lookups.teams).map((t) => ({ id: t.id, name: t.name })),
      );
      const users = new Set(running.sim.rows("users").map((u) => String(u.id)));
      const pairs = lookups.teams.flatMap((t) =>
        (t.members as string[]).filter((m) => users.has(m)).map((m) => `${t.id}|${m}`)
      );
      assert.ok(pairs.length > 3);
      const got = await live(`SELECT team_id, user_id FROM team_members_live`);
      assert.deepEqual(got.map((r) => `${r.team_id}|${r.user_id}`).sort(), pairs.sort());
    }

    before(async () => {
      await dest.ready();
      running = await startSimulator({ records: 30, seed: 5 });
      const n = ++counter;
      url = dest.create(join(dir, `d${n}`), n);
      state = join(dir, `state${n}.json`);
    });
    after(async () => {
      await running.close();
      await dest.close();
    });

    test("a first run copies two processes with their stages, history types and teams", async () => {
      await sync();
      const lookups = running.sim.metadata.lookups;
      assert.equal(lookups.opportunity_processes.length, 2);
      assert.ok(lookups.opportunity_stages.length > 6);
      await assertMirrors();
      // History types decode the history rows' historyTypeID.
      const ids = new Set(lookups.history_types.map((t) => t.id));
      for (const h of running.sim.rows("history")) assert.ok(ids.has(h.historyTypeID));
      // Team members are users.
      const users = new Set(running.sim.rows("users").map((u) => u.id));
      for (const t of lookups.teams) for (const m of t.members as string[]) assert.ok(users.has(m));
    });

    // These endpoints ignore paging: the list, the same list again at the next offset, and one
    // request for fewer rows, which shows that the server ignores $top too (so the list is whole).
    test("a no-change run writes nothing new: three requests per list, one more per team", async () => {
      const before = running.sim.stats.dataRequests;
      const tables = await sync();
      for (const table of TABLES) {
        const t = tables.get(table)!;
        assert.equal(t.changes.inserted + t.changes.updated, 0, table);
        const roster = table === "teams" ? running.sim.metadata.lookups.teams.length : 0;
        assert.equal(t.requests, 3 + roster, table);
      }
      assert.equal(
        running.sim.stats.dataRequests - before,
        3 * TABLES.length + running.sim.metadata.lookups.teams.length,
      );
      await assertMirrors();
    });

    test("rows inserted, edited and removed between runs follow; removed rows are marked", async () => {
      const lookups = running.sim.metadata.lookups;
      lookups.opportunity_processes.push({
        id: "0a0a0a0a-0000-4000-8000-000000000001",
        name: "Partner Process",
        description: "Deals through partners",
      });
      lookups.opportunity_stages[1].probability = 30;
      lookups.opportunity_stages[1].name = "Needs Analysis";
      const gone = lookups.history_types.splice(2, 1)[0];
      lookups.teams[0].name = "Sales North";
      const members = lookups.teams[1].members as string[];
      const dropped = members.shift()!;
      lookups.teams.push({
        id: "0b0b0b0b-0000-4000-8000-000000000002",
        name: "Key Accounts",
        description: "",
        members: [running.sim.rows("users")[0].id],
      });
      await sync();
      await assertMirrors();
      const marked = await live(
        `SELECT id, "_act_deleted_at" FROM history_types WHERE id = '${gone.id}' AND ` +
          `"_act_deleted_at" IS NOT NULL`,
      );
      assert.equal(marked.length, 1);
      const link = await live(
        `SELECT * FROM team_members WHERE team_id = '${lookups.teams[1].id}' AND ` +
          `user_id = '${dropped}'`,
      );
      assert.equal(link.length, 0);
    });

    test("the mass-delete guard keeps the rows when most of a list disappears", async () => {
      const lookups = running.sim.metadata.lookups;
      const teams = lookups.teams.splice(0, lookups.teams.length);
      try {
        await sync();
        const rows = await live(`SELECT id FROM teams_live`);
        assert.equal(rows.length, teams.length);
        assert.ok(warnings.some((w) => /Table teams: 4 of 4 rows are no longer sent/.test(w)));
      } finally {
        lookups.teams.push(...teams);
      }
      await sync();
      await assertMirrors();
    });

    test("an endpoint that answers 404 skips its table with a WARNING, rows kept", async () => {
      running.sim.switches.lookupsMissing = ["teams", "opportunity_stages"];
      try {
        const tables = await sync();
        assert.equal(tables.get("teams")!.status, "ok");
        assert.equal(tables.get("teams")!.rowsWritten, 0);
        assert.ok(warnings.some((w) => /Table teams: \/api\/teams answered 404/.test(w)));
        assert.ok(warnings.some((w) => /Table opportunity_stages: .* answered 404/.test(w)));
        await assertMirrors(); // the rows stored before stay live
      } finally {
        running.sim.switches.lookupsMissing = [];
      }
    });

    test("members embedded in /api/teams are read without the roster", async () => {
      running.sim.switches.teamsEmbedMembers = true;
      try {
        const tables = await sync();
        assert.equal(tables.get("teams")!.requests, 3);
        await assertMirrors();
      } finally {
        running.sim.switches.teamsEmbedMembers = false;
      }
    });

    test("lists served two rows at a time, honouring $top and $skip, are read whole", async () => {
      running.sim.switches.lookupsPageCap = 2;
      try {
        const tables = await sync();
        for (const table of TABLES) {
          assert.equal(tables.get(table)!.status, "ok", table);
        }
        // The stages took several pages: each list was followed to its end.
        const stages = running.sim.metadata.lookups.opportunity_stages.length;
        assert.ok(tables.get("opportunity_stages")!.requests > stages / 2);
        await assertMirrors();
      } finally {
        running.sim.switches.lookupsPageCap = null;
      }
    });
  });
}
