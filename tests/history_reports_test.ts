/**
 * History mode for reports: the example queries of the docs against the simulator's data on
 * both sinks, turning history on later, the CLI's default, the chaos suite's history check.
 */
import { after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { PipelineMutator, simulatorConfig, startSimulator } from "../src/simulator/mod.ts";
import { compareHistory } from "../scripts/chaos_history.ts";
import { runCliProcess, simulatorClient, syncOnce, tempDir } from "./_helpers.ts";
import {
  AS_OF,
  assertPeriods,
  AVERAGE_DAYS_IN_STAGE,
  cents,
  CLOSE_DATE_MOVES,
  nextName,
  opportunitySync,
  PIPELINE_AT_MONTH_END,
  sinks,
  sqliteTarget,
  versions,
} from "./_history.ts";
import { describe, postgresSkip, test } from "./_skip.ts";
import { TestDatabase } from "./_postgres.ts";
import process from "node:process";

const dir = tempDir("act-sync-history-reports-");
after(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 86_400_000;

for (const [kind, make, skip] of sinks(dir)) {
  describe(`history reports (${kind})`, { skip }, () => {
    test("the three example queries answer what the simulator did", async () => {
      const target = make();
      let clock = Date.parse("2026-09-01T00:00:00Z");
      const running = await startSimulator({ records: 200, seed: 5, now: () => clock });
      try {
        await target.query("SELECT 1");
        const sync = opportunitySync(dir, target.destination, running.url, () => clock);
        type Snap = Map<string, Record<string, unknown>>;
        const snap = (): Snap =>
          new Map(running.sim.rows("opportunities").map((row) => [String(row.id), row]));
        await sync();
        const snaps: Snap[] = [snap()];
        const mutator = new PipelineMutator(running.sim, 3);
        let monthEnd: Snap | null = null;
        for (const day of ["09-10", "09-20", "09-28", "10-08", "10-20"]) {
          clock = Date.parse(`2026-${day}T10:00:00Z`);
          mutator.mutate(12);
          if (day === "10-08") monthEnd = snaps.at(-1)!;
          snaps.push(snap());
          clock += DAY;
          await sync();
        }

        // The table at the end of September: the simulator's state after 09-28, row by row.
        const asOf = await target.query(AS_OF);
        assert.deepEqual(
          asOf.map((r) => [String(r.id), String(r.stage_name), cents(r.productTotal)]).sort(),
          [...monthEnd!.values()].map((row) => [
            String(row.id),
            (row.stage as { name: string }).name,
            cents(row.productTotal),
          ]).sort(),
        );

        // Pipeline by stage at the end of September.
        const pipeline = new Map<string, { deals: number; amount: number }>();
        for (const row of monthEnd!.values()) {
          if (row.status !== 0) continue;
          const stage = (row.stage as { name: string }).name;
          const entry = pipeline.get(stage) ?? { deals: 0, amount: 0 };
          entry.deals++;
          entry.amount += Number(row.productTotal);
          pipeline.set(stage, entry);
        }
        const gotPipeline = await target.query(
          PIPELINE_AT_MONTH_END.replace("GROUP BY", "AND status = 0 GROUP BY"),
        );
        assert.deepEqual(
          gotPipeline.map((r) => [String(r.stage), Number(r.deals), cents(r.amount)]),
          [...pipeline].sort(([a], [b]) => a < b ? -1 : 1).map(([k, v]) => [
            k,
            v.deals,
            cents(v.amount),
          ]),
        );

        // Days in each stage and close date moves, from the snapshots.
        const days = new Map<string, number[]>();
        const moves = new Map<string, number>();
        for (const [id, first] of snaps[0]) {
          let stage = (first.stage as { name: string }).name;
          let since = Date.parse(String(first.edited));
          let close = first.estimatedCloseDate;
          for (const s of snaps.slice(1)) {
            const row = s.get(id)!;
            const now = (row.stage as { name: string }).name;
            if (now !== stage) {
              const at = Date.parse(String(row.edited));
              days.set(stage, [...days.get(stage) ?? [], (at - since) / DAY]);
              stage = now;
              since = at;
            }
            if (row.estimatedCloseDate !== close) moves.set(id, (moves.get(id) ?? 0) + 1);
            close = row.estimatedCloseDate;
          }
        }
        assert.ok(days.size > 1 && moves.size > 1, "the rounds moved stages and close dates");
        const gotDays = await target.query(AVERAGE_DAYS_IN_STAGE);
        assert.deepEqual(
          gotDays.map((r) => [String(r.stage), Number(r.changes)]),
          [...days].sort(([a], [b]) => a < b ? -1 : 1).map(([k, v]) => [k, v.length]),
        );
        for (const r of gotDays) {
          const list = days.get(String(r.stage))!;
          const mean = list.reduce((a, b) => a + b, 0) / list.length;
          assert.ok(Math.abs(Number(r.days) - mean) < 1e-6, `${r.stage}: ${r.days} ≠ ${mean}`);
        }
        const gotMoves = await target.query(CLOSE_DATE_MOVES);
        assert.deepEqual(
          gotMoves.map((r) => [String(r.id), Number(r.moves)]),
          [...moves].sort(([a], [b]) => a < b ? -1 : 1),
        );
      } finally {
        await target.close();
        await running.close();
      }
    });

    test("turning history on later starts from that sync, with version 1 of every row", async () => {
      const target = make();
      let clock = Date.parse("2026-09-01T00:00:00Z");
      const running = await startSimulator({ records: 100, seed: 9, now: () => clock });
      try {
        await target.query("SELECT 1");
        const syncAll = opportunitySync(dir, target.destination, running.url, () => clock);
        const sync = (history: string[]) => syncAll({ history });
        await sync([]);
        const [{ n }] = await target.query(
          kind === "sqlite"
            ? "SELECT count(*) AS n FROM sqlite_master WHERE name = 'opportunities_history'"
            : "SELECT count(*) AS n FROM pg_class WHERE relname = 'opportunities_history'",
        );
        assert.equal(Number(n), 0, "no history table while history mode is off");
        clock += DAY;
        const id = new PipelineMutator(running.sim).changeAmount(
          running.sim.idAt("opportunities", 0),
          777,
        ).id;
        clock += DAY;
        await sync(["opportunities"]);
        const all = await versions(target);
        assert.equal(all.size, running.sim.count("opportunities"));
        for (const [key, list] of all) {
          if (key === id) continue;
          assert.equal(list.length, 1);
          assert.equal(list[0].from, clock, "valid from the sync that turned it on");
        }
        assert.deepEqual(all.get(id)!.map((v) => v.amount).slice(-1), [777]);
        assertPeriods(all);
      } finally {
        await target.close();
        await running.close();
      }
    });
  });
}

test("docs/history-mode.md shows exactly the queries run here", () => {
  const page = readFileSync(new URL("../docs/history-mode.md", import.meta.url), "utf8");
  const blocks = [...page.matchAll(/^```sql\n([\s\S]*?)^```$/gm)]
    .map((m) => m[1].trim().replace(/;$/, ""));
  const run = [AS_OF, PIPELINE_AT_MONTH_END, AVERAGE_DAYS_IN_STAGE, CLOSE_DATE_MOVES];
  assert.deepEqual(blocks, run.map((q) => q.trim()));
});

test("the chaos suite's history check finds a missing version and a stale one", async () => {
  const target = sqliteTarget(dir);
  const running = await startSimulator({ records: 40, seed: 2 });
  try {
    const result = await syncOnce(target.destination, join(dir, nextName("s") + ".json"), {
      tables: ["opportunities"],
      source: simulatorClient(running.url),
      sinkOptions: { history: ["opportunities"] },
    });
    assert.equal(result.ok, true);
    const path = target.destination.slice("sqlite:".length);
    const check = () => {
      const conn = new DatabaseSync(path, { readOnly: true });
      const counts = { lost: 0, stale: 0, problems: [] as string[] };
      try {
        compareHistory(conn, counts);
      } finally {
        conn.close();
      }
      return counts;
    };
    assert.deepEqual(check(), { lost: 0, stale: 0, problems: [] });
    const [a, b] = running.sim.rows("opportunities").map((row) => String(row.id));
    const db = new DatabaseSync(path);
    db.prepare("DELETE FROM opportunities_history WHERE id = ?").run(a);
    db.prepare(`UPDATE opportunities_history SET "productTotal" = -1 WHERE id = ?`).run(b);
    db.close();
    const found = check();
    assert.equal(found.lost, 1);
    assert.equal(found.stale, 1);
    assert.match(found.problems.join("\n"), /productTotal/);
  } finally {
    await running.close();
  }
});

test("act-sync --once keeps opportunities_history by default, and no history with []", async () => {
  const running = await startSimulator({ records: 40, seed: 4 });
  try {
    for (const [history, expected] of [[undefined, true], [[], false]] as const) {
      const folder = join(dir, nextName("cli"));
      mkdirSync(folder);
      const config = join(folder, "configuration.json");
      const extra: Record<string, unknown> = {
        tables: ["opportunities"],
        destination: `sqlite:${join(folder, "act.db")}`,
        state_file: join(folder, "state.json"),
      };
      if (history) extra.history_mode = history;
      writeFileSync(config, JSON.stringify(simulatorConfig(running.url, extra)));
      const result = await runCliProcess(["--once", "--config", config]);
      assert.equal(result.code, 0, result.stderr);
      const db = new DatabaseSync(join(folder, "act.db"), { readOnly: true });
      try {
        const found = db.prepare(
          "SELECT count(*) AS n FROM sqlite_master WHERE name = 'opportunities_history'",
        ).get() as { n: number };
        assert.equal(Number(found.n), expected ? 1 : 0);
        if (expected) {
          const rows = db.prepare("SELECT count(*) AS n FROM opportunities_history").get() as {
            n: number;
          };
          assert.equal(Number(rows.n), running.sim.count("opportunities"));
        }
      } finally {
        db.close();
      }
    }
  } finally {
    await running.close();
  }
});

test(
  "report_role reads the history table, the stage view and runs the page's queries; a view on the stage view stays",
  {
    skip: postgresSkip(),
  },
  async () => {
    const database = new TestDatabase("history_role", { max: 2 });
    const role = `act_history_reports_${process.pid}`;
    let clock = Date.parse("2026-09-01T00:00:00Z");
    const running = await startSimulator({ records: 80, seed: 6, now: () => clock });
    const sql = await database.sql();
    try {
      await sql.unsafe(`DROP ROLE IF EXISTS "${role}"`).catch(() => {});
      await sql.unsafe(`CREATE ROLE "${role}" NOLOGIN`);
      const sync = opportunitySync(
        dir,
        database.url("schema=hist"),
        running.url,
        () => clock,
        { history: ["opportunities"], reportRole: role },
      );
      await sync();
      // A report's own view on the stage view: the next runs keep the stage view under it.
      await sql.unsafe(
        `CREATE VIEW hist.my_stages AS SELECT * FROM hist.opportunity_stage_changes`,
      );
      const mutator = new PipelineMutator(running.sim, 4);
      for (const day of ["09-10", "09-20", "10-05"]) {
        clock = Date.parse(`2026-${day}T10:00:00Z`);
        const ids = running.sim.rows("opportunities").slice(0, 6).map((r) => String(r.id));
        for (const id of ids) mutator.advanceStage(id);
        mutator.moveCloseDate(ids[0], 7);
        // A field Act! starts to send: a new column in the table and its history.
        if (day === "09-20") {
          running.sim.edit("opportunities", ids[1], { reportingRegion: "North" });
        }
        clock += DAY;
        await sync();
      }
      const asRole = (query: string) =>
        sql.begin(async (tx) => {
          await tx.unsafe(`SET LOCAL ROLE "${role}"`);
          await tx.unsafe(`SET LOCAL search_path TO hist`);
          return [...await tx.unsafe(query)];
        });
      const [versions] = await asRole(`SELECT count(*)::int AS n FROM opportunities_history`);
      assert.ok(Number(versions.n) > running.sim.count("opportunities"));
      const [changes] = await asRole(`SELECT count(*)::int AS n FROM opportunity_stage_changes`);
      assert.ok(Number(changes.n) > 0);
      const [mine] = await sql.unsafe(`SELECT count(*)::int AS n FROM hist.my_stages`);
      assert.equal(mine.n, changes.n);
      for (const query of [AS_OF, PIPELINE_AT_MONTH_END, AVERAGE_DAYS_IN_STAGE, CLOSE_DATE_MOVES]) {
        assert.ok((await asRole(query)).length > 0, query);
      }
    } finally {
      await running.close();
      await database.drop();
      const { default: postgres } = await import("postgres");
      const admin = postgres(process.env.ACT_SYNC_TEST_PG!, { max: 1, onnotice: () => {} });
      await admin.unsafe(`DROP ROLE IF EXISTS "${role}"`).catch(() => {});
      await admin.end();
    }
  },
);
