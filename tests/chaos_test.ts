import { test } from "node:test";
import assert from "node:assert/strict";
import { formatTrial, runChaos } from "../scripts/chaos.ts";

// Ten trials take about two minutes on a loaded machine (a trial with a page cap of 1 makes a
// request per row of every table, notes and custom tables included): the limit leaves room.
test("a short seeded chaos run (kills, HTTP faults, mutations, locked destination) loses no row", {
  timeout: 300_000,
}, async () => {
  const lines: string[] = [];
  const summary = await runChaos({
    trials: 10,
    seed: 7000,
    records: 60,
    lockEvery: 8,
    diskFullEvery: 16,
    log: (line) => lines.push(line),
  });
  const failed = summary.trials.filter((t) => t.problems.length > 0).map(formatTrial);
  assert.deepEqual(failed, []);
  assert.equal(summary.ok, true);
  assert.equal(summary.lost + summary.duplicated + summary.stale + summary.extra, 0);
  assert.equal(lines.length, 10);
  // The faults really happened: kills, a destination lock, runs that had to be repeated.
  assert.ok(summary.kills > 0, `kills: ${summary.kills}`);
  assert.ok(summary.trials.some((t) => t.faults.includes("destination locked")));
  assert.ok(summary.runs > summary.trials.length * 3, `runs: ${summary.runs}`);
  // And those of notes and the custom tables.
  for (const fault of ["notes without OData", "custom table added", 'custom table "']) {
    assert.ok(summary.trials.some((t) => t.faults.some((f) => f.startsWith(fault))), fault);
  }
});
