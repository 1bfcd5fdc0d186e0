/**
 * History mode: `<table>_history` against the simulator's own log of pipeline changes, on both
 * sinks; the report queries of the docs run against it.
 */
import { after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseConfig } from "../src/config/mod.ts";
import { silentLogger } from "../src/core/log.ts";
import { openSink } from "../src/sink/mod.ts";
import type { ColumnType, FlatRow } from "../src/sink/sink.ts";
import { validFrom } from "../src/sink/_history.ts";
import { reconcileTables } from "../src/sync/reconcile.ts";
import {
  type PipelineChange,
  PipelineMutator,
  simulatorConfig,
  startSimulator,
} from "../src/simulator/mod.ts";
import { compareHistory } from "../scripts/_chaos_history.ts";
import { runCliProcess, simulatorClient, syncOnce, tempDir } from "./_helpers.ts";
import { TestDatabase } from "./_postgres.ts";
import { describe, postgresSkip, test } from "./_skip.ts";

const dir = tempDir("act-sync-history-");
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const DAY = 86_400_000;

/** The report queries of the docs (reporting), the same text on both sinks. */
export const PIPELINE_AT_MONTH_END = `
SELECT stage_name AS stage, count(*) AS deals, sum("productTotal") AS amount
FROM opportunities_history
WHERE "_act_valid_from" <= '2026-10-01T00:00:00.000Z'
  AND ("_act_valid_to" IS NULL OR "_act_valid_to" > '2026-10-01T00:00:00.000Z')
  AND NOT "_act_deleted"
GROUP BY stage_name ORDER BY stage_name`;

export const AVERAGE_DAYS_IN_STAGE = `
SELECT previous_stage AS stage, avg(previous_stage_days) AS days, count(*) AS changes
FROM opportunity_stage_changes
GROUP BY previous_stage ORDER BY previous_stage`;

export const CLOSE_DATE_MOVES = `
SELECT id, count(*) AS moves FROM (
  SELECT id, "estimatedCloseDate" AS close_date,
    LAG("estimatedCloseDate") OVER (PARTITION BY id ORDER BY "_act_version") AS previous,
    ROW_NUMBER() OVER (PARTITION BY id ORDER BY "_act_version") AS n
  FROM opportunities_history WHERE NOT "_act_deleted") AS v
WHERE n > 1 AND close_date IS DISTINCT FROM previous
GROUP BY id ORDER BY id`;

/** One destination: its URL and a plain query on it. */
interface Target {
  destination: string;
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

function sqliteTarget(): Target {
  const path = join(dir, `h${++counter}.db`);
  return {
    destination: `sqlite:${path}`,
    query(sql) {
      const db = new DatabaseSync(path);
      try {
        return Promise.resolve(db.prepare(sql).all() as Record<string, unknown>[]);
      } finally {
        db.close();
      }
    },
    close: () => Promise.resolve(),
  };
}

function postgresTarget(): Target {
  const database = new TestDatabase("history");
  return {
    destination: database.url(),
    async query(sql) {
      return [...await (await database.sql()).unsafe(sql)];
    },
    close: () => database.drop(),
  };
}

/** An amount in whole cents (sums of doubles differ in their last bits). */
function cents(value: unknown): number {
  return Math.round(Number(value) * 100);
}

/** A value as comparable text: date-times as ms, numbers as numbers, booleans as 0/1. */
function ms(value: unknown): number {
  return value instanceof Date ? value.getTime() : Date.parse(String(value));
}

interface Version {
  id: string;
  version: number;
  from: number;
  to: number | null;
  deleted: boolean;
  stage: string;
  close: number;
  amount: number;
}

async function versions(target: Target): Promise<Map<string, Version[]>> {
  const rows = await target.query(
    `SELECT id, "_act_version" AS v, "_act_valid_from" AS f, "_act_valid_to" AS t, ` +
      `"_act_deleted" AS d, stage_name AS s, "estimatedCloseDate" AS c, "productTotal" AS a ` +
      `FROM opportunities_history ORDER BY id, "_act_version"`,
  );
  const out = new Map<string, Version[]>();
  for (const r of rows) {
    const list = out.get(String(r.id)) ?? [];
    list.push({
      id: String(r.id),
      version: Number(r.v),
      from: ms(r.f),
      to: r.t === null ? null : ms(r.t),
      deleted: r.d === true || Number(r.d) === 1,
      stage: String(r.s),
      close: ms(r.c),
      amount: Number(r.a),
    });
    out.set(String(r.id), list);
  }
  return out;
}

/** Versions numbered 1, 2, … whose periods follow each other without overlap or gap. */
function assertPeriods(all: Map<string, Version[]>): void {
  for (const [id, list] of all) {
    list.forEach((v, i) => {
      assert.equal(v.version, i + 1, `${id}: version numbers`);
      const next = list[i + 1];
      if (next) {
        assert.equal(v.to, next.from, `${id} v${v.version}: ends where the next begins`);
        assert.ok(next.from > v.from, `${id} v${next.version}: starts after v${v.version}`);
      } else assert.equal(v.to, null, `${id}: the last version is current`);
    });
  }
}

async function count(target: Target, table: string): Promise<number> {
  const [row] = await target.query(`SELECT count(*) AS n FROM ${table}`);
  return Number(row.n);
}

function sinks(): [string, () => Target, string | false][] {
  return [["sqlite", sqliteTarget, false], ["postgres", postgresTarget, postgresSkip()]];
}

for (const [kind, make, skip] of sinks()) {
  describe(`history mode (${kind})`, { skip }, () => {
    test("every version the simulator made between syncs, once, in order", async () => {
      const target = make();
      let clock = Date.parse("2026-09-15T00:00:00Z");
      const running = await startSimulator({ records: 200, seed: 24, now: () => clock });
      const t = target;
      const url = target.destination;
      try {
        await t.query("SELECT 1"); // creates the PostgreSQL database
        const state = join(dir, `s${++counter}.json`);
        const client = simulatorClient(running.url);
        const sync = async (fullRefresh = false) => {
          const result = await syncOnce(url, state, {
            tables: ["opportunities"],
            source: client,
            now: () => clock,
            fullRefresh,
            sinkOptions: { history: ["opportunities"] },
          });
          assert.equal(result.ok, true, JSON.stringify(result.tables.map((x) => x.error)));
          return result;
        };
        await sync();
        const live = running.sim.count("opportunities");
        assert.equal(await count(t, "opportunities_history"), live, "version 1 of every row");
        const first = await versions(t);
        const mutator = new PipelineMutator(running.sim, 7);
        /** Per id, the values after each sync that saw it change, in order. */
        const expected = new Map<string, PipelineChange[]>();
        for (let round = 0; round < 5; round++) {
          clock += 4 * DAY;
          const changes = mutator.mutate(10);
          // A second change of one deal before the next sync: one version for both.
          clock += 60_000;
          changes.push(mutator.moveCloseDate(changes[0].id, 3));
          clock += DAY;
          const last = new Map(changes.map((c) => [c.id, c]));
          for (const [id, change] of last) {
            expected.set(id, [...expected.get(id) ?? [], change]);
          }
          await sync();
        }
        const all = await versions(t);
        assertPeriods(all);
        for (const [id, list] of all) {
          const want = expected.get(id) ?? [];
          assert.equal(list.length, 1 + want.length, `${id}: versions`);
          if (first.has(id)) assert.deepEqual(list[0], { ...first.get(id)![0], to: list[0].to });
          want.forEach((change, i) => {
            const got = list[i + 1];
            assert.equal(got.from, Date.parse(change.edited!), `${id} v${got.version}: from`);
            assert.equal(got.stage, change.values!.stage);
            assert.equal(got.close, Date.parse(change.values!.estimatedCloseDate));
            assert.equal(got.amount, change.values!.productTotal);
          });
        }
        // Re-reads (lookback, a run with no change, a full refresh) write no version.
        const before = await count(t, "opportunities_history");
        clock += DAY;
        await sync();
        await sync(true);
        assert.equal(await count(t, "opportunities_history"), before, "no version for re-reads");

        // Reset (the state file gone: every row read again) writes none either.
        rmSync(state);
        clock += DAY;
        await sync();
        assert.equal(await count(t, "opportunities_history"), before, "no version after reset");

        // An edit whose `edited` goes back in time starts at the sync time instead.
        running.sim.switches.stampSkewSeconds = -30 * 86_400;
        const back = mutator.changeAmount([...expected.keys()][1], 12_345);
        running.sim.switches.stampSkewSeconds = 0;
        clock += DAY;
        await sync(true);
        const backwards = (await versions(t)).get(back.id)!;
        assert.ok(Date.parse(back.edited!) < backwards.at(-2)!.from, "edited went backwards");
        assert.equal(backwards.at(-1)!.from, clock, "valid from the sync time");
        assert.equal(backwards.at(-1)!.amount, 12_345);
        assertPeriods(await versions(t));

        // A new column appearing (one new record carries it) is no change to the others.
        running.sim.insert("opportunities", { newField: "x" });
        clock += DAY;
        await sync(true);
        assert.equal(await count(t, "opportunities_history"), before + 2, "only the new row");

        // A delete found by reconcile closes the current version and adds a deleted one.
        const gone = [...expected.keys()][0];
        mutator.remove(gone);
        clock += DAY;
        const sink = await openSink(url, { history: ["opportunities"] });
        try {
          const result = await reconcileTables({ tables: ["opportunities"], batchSize: 50 }, {
            source: client,
            sink,
            logger: silentLogger(),
            now: () => clock,
          });
          assert.equal(result.tables[0].deleted, 1);
        } finally {
          await sink.close();
        }
        const after = await versions(t);
        assertPeriods(after);
        const end = after.get(gone)!;
        assert.notEqual(gone, back.id);
        assert.equal(end.length, expected.get(gone)!.length + 2);
        assert.equal(end.at(-1)!.deleted, true);
        assert.equal(end.at(-1)!.from, clock);
        assert.equal(end.at(-2)!.to, clock);
        assert.equal(end.at(-1)!.stage, end.at(-2)!.stage, "the delete keeps the last values");
      } finally {
        await target.close();
        await running.close();
      }
    });
  });
}

for (const [kind, make, skip] of sinks()) {
  describe(`history reports (${kind})`, { skip }, () => {
    test("the three example queries answer what the simulator did", async () => {
      const target = make();
      let clock = Date.parse("2026-09-01T00:00:00Z");
      const running = await startSimulator({ records: 200, seed: 5, now: () => clock });
      try {
        await target.query("SELECT 1");
        const state = join(dir, `s${++counter}.json`);
        const client = simulatorClient(running.url);
        const sync = async () => {
          const result = await syncOnce(target.destination, state, {
            tables: ["opportunities"],
            source: client,
            now: () => clock,
            sinkOptions: { history: ["opportunities"] },
          });
          assert.equal(result.ok, true, JSON.stringify(result.tables.map((x) => x.error)));
        };
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

        // Pipeline by stage at the end of September: the simulator's state after 09-28.
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
        const state = join(dir, `s${++counter}.json`);
        const client = simulatorClient(running.url);
        const sync = async (history: string[]) => {
          const result = await syncOnce(target.destination, state, {
            tables: ["opportunities"],
            source: client,
            now: () => clock,
            sinkOptions: { history },
          });
          assert.equal(result.ok, true, JSON.stringify(result.tables.map((x) => x.error)));
        };
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

test("the chaos suite's history check finds a missing version and a stale one", async () => {
  const target = sqliteTarget();
  const running = await startSimulator({ records: 40, seed: 2 });
  try {
    const result = await syncOnce(target.destination, join(dir, `s${++counter}.json`), {
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

for (const [kind, make, skip] of sinks()) {
  describe(`history through the sink (${kind})`, { skip }, () => {
    test("a widened column keeps every version; a delete and a comeback are versions", async () => {
      const target = make();
      await target.query("SELECT 1");
      const sink = await openSink(target.destination, { history: ["contacts"] });
      const shape = { refs: [], cursor: "edited", links: [] };
      const page = (rows: FlatRow[], types: [string, ColumnType][]) => ({
        rows,
        types: new Map(types),
        shape,
      });
      const e = (day: number) => `2026-10-0${day}T00:00:00Z`;
      try {
        await sink.write(
          "contacts",
          page([{ id: "a", n: 5, edited: e(1) }, { id: "b", n: 7, edited: e(1) }], [
            ["n", "integer"],
            ["edited", "datetime"],
          ]),
          "2026-10-01T12:00:00.000Z",
        );
        // "b" unchanged, "a" changed to a text value: the column widens to text.
        await sink.write(
          "contacts",
          page([{ id: "a", n: "five", edited: e(2) }, { id: "b", n: 7, edited: e(1) }], [
            ["n", "text"],
            ["edited", "datetime"],
          ]),
          "2026-10-02T12:00:00.000Z",
        );
        assert.equal(await sink.markDeleted("contacts", ["b"], "2026-10-03T12:00:00.000Z"), 1);
        await sink.write(
          "contacts",
          page([{ id: "b", n: 7, edited: e(1) }], [["n", "integer"], ["edited", "datetime"]]),
          "2026-10-04T12:00:00.000Z",
        );
      } finally {
        await sink.close();
      }
      try {
        const rows = await target.query(
          `SELECT id, "_act_version" AS v, n, "_act_deleted" AS d, "_act_valid_from" AS f, ` +
            `"_act_valid_to" AS t FROM contacts_history ORDER BY id, "_act_version"`,
        );
        const iso = (x: unknown) => x === null ? null : new Date(ms(x)).toISOString();
        assert.deepEqual(
          rows.map((r) => [r.id, Number(r.v), String(r.n), Number(r.d), iso(r.f), iso(r.t)]),
          [
            ["a", 1, "5", 0, "2026-10-01T00:00:00.000Z", "2026-10-02T00:00:00.000Z"],
            ["a", 2, "five", 0, "2026-10-02T00:00:00.000Z", null],
            ["b", 1, "7", 0, "2026-10-01T00:00:00.000Z", "2026-10-03T12:00:00.000Z"],
            ["b", 2, "7", 1, "2026-10-03T12:00:00.000Z", "2026-10-04T12:00:00.000Z"],
            // Back with the same `edited`, not later than the delete: from the sync time.
            ["b", 3, "7", 0, "2026-10-04T12:00:00.000Z", null],
          ],
        );
      } finally {
        await target.close();
      }
    });
  });
}

test("act-sync --once keeps opportunities_history by default, and no history with []", async () => {
  const running = await startSimulator({ records: 40, seed: 4 });
  try {
    for (const [history, expected] of [[undefined, true], [[], false]] as const) {
      const folder = join(dir, `cli${++counter}`);
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

test("history_mode: opportunities by default, any table, [] turns it off, unknown names refused", () => {
  const base = {
    hostname: "act.example.com",
    username: "u",
    password: "p",
    database_name: "db",
  };
  const parse = (extra: Record<string, unknown>, env: Record<string, string> = {}) =>
    parseConfig({ ...base, ...extra }, { baseDir: dir, env }).config.history_mode;
  assert.deepEqual(parse({}), ["opportunities"]);
  assert.deepEqual(parse({ history_mode: [] }), []);
  assert.deepEqual(parse({ history_mode: ["Contacts", "opportunities"] }), [
    "contacts",
    "opportunities",
  ]);
  assert.deepEqual(parse({}, { ACT_HISTORY_MODE: "products,history" }), ["products", "history"]);
  assert.throws(
    () => parse({ history_mode: ["oportunities"] }),
    /'history_mode' contains an unknown table "oportunities": .*did you mean "opportunities"\?/,
  );
  assert.throws(() => parse({ history_mode: 3 }), /'history_mode' must be a list of table names/);
});

test("validFrom: edited when later than the previous start, else the sync time, else +1 ms", () => {
  const prev = Date.parse("2026-10-01T00:00:00Z");
  const at = "2026-10-05T00:00:00.000Z";
  assert.equal(validFrom("2026-10-02T00:00:00Z", at, prev), "2026-10-02T00:00:00.000Z");
  assert.equal(validFrom("2026-09-01T00:00:00Z", at, prev), at, "edited went backwards");
  assert.equal(validFrom("2026-10-01T00:00:00Z", at, prev), at, "edited equals the previous");
  assert.equal(validFrom(null, at, prev), at, "no edited");
  assert.equal(validFrom(null, at, null), at);
  assert.equal(
    validFrom("2026-09-01T00:00:00Z", "2026-09-30T00:00:00Z", prev),
    "2026-10-01T00:00:00.001Z",
    "sync time not later either",
  );
});
