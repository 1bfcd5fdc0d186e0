/**
 * History mode: `<table>_history` against the simulator's own log of pipeline changes and
 * through the sink, on both sinks; the config key and the rule for `_act_valid_from`.
 */
import { after } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../src/config/mod.ts";
import { silentLogger } from "../src/core/log.ts";
import { openSink, validFrom } from "../src/sink/mod.ts";
import type { ColumnType, FlatRow } from "../src/sink/sink.ts";
import { reconcileTables } from "../src/sync/reconcile.ts";
import { type PipelineChange, PipelineMutator, startSimulator } from "../src/simulator/mod.ts";
import { simulatorClient, syncOnce, tempDir } from "./_helpers.ts";
import {
  assertPeriods,
  count,
  ms,
  nextName,
  opportunitySync,
  sinks,
  versions,
} from "./_history.ts";
import { describe, test } from "./_skip.ts";

const dir = tempDir("act-sync-history-");
after(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 86_400_000;

for (const [kind, make, skip] of sinks(dir)) {
  describe(`history mode (${kind})`, { skip }, () => {
    test("every version the simulator made between syncs, once, in order", async () => {
      const target = make();
      let clock = Date.parse("2026-09-15T00:00:00Z");
      const running = await startSimulator({ records: 200, seed: 24, now: () => clock });
      const t = target;
      const url = target.destination;
      try {
        await t.query("SELECT 1"); // creates the PostgreSQL database
        const state = join(dir, nextName("s") + ".json");
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

for (const [kind, make, skip] of sinks(dir)) {
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

for (const [kind, make, skip] of sinks(dir)) {
  describe(`history and records that cannot be stored (${kind})`, { skip }, () => {
    test("a rejected record writes no version; once stored, its change is one", async () => {
      const target = make();
      let clock = Date.parse("2026-09-15T00:00:00Z");
      const running = await startSimulator({ records: 60, seed: 9, now: () => clock });
      try {
        await target.query("SELECT 1");
        const sync = opportunitySync(dir, target.destination, running.url, () => clock);
        await sync();
        const before = await versions(target);
        const [deep, badEdited] = [...before.keys()];
        const mutator = new PipelineMutator(running.sim, 2);
        const poison = running.sim.switches.poison;
        // Changed in Act!, then served in a shape that cannot be stored; and a new record that
        // never could be.
        clock += DAY;
        const changes = [mutator.changeAmount(deep, 4_321), mutator.changeAmount(badEdited, 99)];
        poison[deep] = "deep";
        poison[badEdited] = "bad-edited";
        const fresh = String(running.sim.insert("opportunities").id);
        poison[fresh] = "not-json";
        clock += DAY;
        const result = await sync();
        assert.equal(result.tables[0].rejected, 3);
        const during = await versions(target);
        assert.deepEqual(during, before, "no version for a record kept in _act_rejected");
        const amounts = new Map(
          (await target.query(`SELECT id, "productTotal" AS a FROM opportunities`))
            .map((r) => [String(r.id), Number(r.a)]),
        );
        for (const id of [deep, badEdited]) {
          assert.equal(amounts.get(id), during.get(id)!.at(-1)!.amount, `${id}: the row's version`);
        }
        // Served normally again: the change is one version, valid from its `edited`.
        for (const id of [deep, badEdited, fresh]) delete poison[id];
        clock += DAY;
        assert.equal((await sync()).tables[0].rejected ?? 0, 0);
        const healed = await versions(target);
        assertPeriods(healed);
        for (const change of changes) {
          const list = healed.get(change.id)!;
          assert.equal(list.length, 2, `${change.id}: versions`);
          assert.equal(list[1].amount, change.values!.productTotal);
          assert.equal(list[1].from, Date.parse(change.edited!));
        }
        assert.equal(healed.get(fresh)?.length, 1, "the new record's first version");
        assert.equal(healed.size, before.size + 1);
      } finally {
        await target.close();
        await running.close();
      }
    });
  });
}

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
  assert.deepEqual(parse({}, { ACT_HISTORY_MODE: "none" }), []);
  assert.deepEqual(parse({}, { ACT_HISTORY_MODE: "[]" }), []);
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
