// Long work shows "N of M" and the time left: the text of the terminal line and the log line
// (not timings), and what a sync of line items counts.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../src/core/log.ts";
import {
  formatProgressLine,
  formatProgressLog,
  progressReporter,
  timeLeft,
} from "../src/jobs/progress.ts";
import type { ProgressEvent } from "../src/sync/run_types.ts";
import { startSimulator } from "../src/simulator/mod.ts";
import { simulatorClient, syncOnce, tempDir } from "./_helpers.ts";

describe("progress: N of M and the time left", () => {
  test("N of M and the time left: line items count opportunities, reconcile its parents", () => {
    const items = (total?: number) => ({
      table: "opportunity_products" as const,
      rows: 1234,
      elapsedMs: 20_000,
      parents: { table: "opportunities" as const, done: 200, ...(total ? { total } : {}) },
    });
    assert.equal(
      formatProgressLine(items(2000)),
      "opportunity_products  [##..................]  10%  200 of 2,000 opportunities  " +
        "1,234 rows  62 rows/s  about 3 min left",
    );
    assert.equal(
      formatProgressLog(items(2000)),
      "Table opportunity_products: 200 of 2,000 opportunities done (1,234 rows so far), " +
        "about 3 min left",
    );
    // An incremental window: how many opportunities it holds is not known, so no total.
    assert.equal(
      formatProgressLine(items()),
      "opportunity_products  200 opportunities  1,234 rows  62 rows/s",
    );
    assert.equal(
      formatProgressLog(items()),
      "Table opportunity_products: 200 opportunities done (1,234 rows so far)",
    );
    const parents = {
      table: "opportunity_products" as const,
      rows: 300,
      total: 9000,
      elapsedMs: 600_000,
      what: "parents" as const,
    };
    assert.equal(
      formatProgressLog(parents),
      "Table opportunity_products: 300 of 9,000 parents, about 4 h 50 min left",
    );
    assert.match(
      formatProgressLine(parents),
      /300 parents of 9,000 {2}1 parents\/s {2}about 4 h 50 min left$/,
    );
    assert.equal(timeLeft(0, 10, 1000), null, "no pace yet");
    assert.equal(timeLeft(10, 10, 1000), null, "done");
    assert.equal(timeLeft(1, 3, 20_000), "about 40 s left");
    // In a log: the same words, with the numbers as fields.
    let clock = 0;
    const lines: string[] = [];
    const reporter = progressReporter({
      logger: createLogger({ write: (line) => lines.push(line) }),
      now: () => clock,
    });
    clock = 20_000;
    reporter.report(items(2000));
    assert.match(
      lines[0],
      /200 of 2,000 opportunities done .*opportunities=200 .*total=2000 seconds_left=180/,
    );
  });

  test("a sync counts the line items' opportunities: of every one on a first sync, with no total after", async () => {
    const sim = await startSimulator({ records: 30, seed: 8 });
    const dir = tempDir("act-sync-progress-");
    try {
      const destination = `sqlite:${join(dir, "act.db")}`;
      const statePath = join(dir, "state.json");
      const client = simulatorClient(sim.url);
      const run = async () => {
        const events: ProgressEvent[] = [];
        const result = await syncOnce(destination, statePath, {
          tables: ["opportunities", "opportunity_products"],
          batchSize: 7,
          source: client,
          onProgress: (event) => events.push(event),
        });
        assert.ok(result.tables.every((t) => t.status === "ok"));
        return events.filter((e) => e.table === "opportunity_products");
      };
      const first = await run();
      const opportunities = sim.sim.count("opportunities");
      assert.ok(first.length > 1, "a progress event per page");
      assert.ok(first.every((e) => e.parents?.table === "opportunities"));
      assert.ok(first.every((e) => e.parents?.total === opportunities), JSON.stringify(first[0]));
      assert.equal(first.at(-1)!.parents!.done, opportunities);
      const opp = sim.sim.rows("opportunities")[0];
      sim.sim.edit("opportunities", String(opp.id), { name: "Changed" });
      const second = await run();
      assert.ok(second.length > 0);
      assert.ok(second.every((e) => e.parents && e.parents.total === undefined));
    } finally {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
