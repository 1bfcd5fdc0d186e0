// The schedule runs in the host's local time while everything shown is UTC: the service says
// which, in its log, /health and the status page, under a host time zone that is not UTC.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { simulatorConfig, startSimulator } from "../src/simulator/mod.ts";
import { freePort, runCliProcess, spawnCli, tempDir } from "./_helpers.ts";
import { USAGE } from "../src/cli/mod.ts";

let dir = "";
before(() => {
  dir = tempDir("act-sync-schedule-zone-");
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("the schedule's time zone", () => {
  test("--help says the schedules run in local time and every time shown is UTC", () => {
    assert.match(USAGE, /'schedule' and 'reconcile_schedule' .* local time; every time .* is UTC/s);
  });

  test("the service in Asia/Kolkata: its next-run log line, /health and the status page say local time", async () => {
    const sim = await startSimulator({ records: 5, seed: 3 });
    const port = await freePort();
    const config = join(dir, "configuration.json");
    writeFileSync(
      config,
      JSON.stringify(simulatorConfig(sim.url, {
        destination: `sqlite:${join(dir, "act.db")}`,
        state_file: join(dir, "state.json"),
        tables: ["contacts"],
        http_port: port,
        // 03:30 local is 22:00 UTC the day before in Kolkata (UTC+05:30, no summer time).
        schedule: "30 3 * * *",
        reconcile_schedule: "0 4 * * *",
      })),
    );
    // TZ for the service only: Kolkata has one offset all year, so the text is certain.
    const service = spawnCli(["--config", config], { env: { TZ: "Asia/Kolkata" } });
    try {
      await service.waitFor(/Next run .*reconcile_schedule.*every time in the log is UTC/);
      await service.waitFor(/(Run|Sync) \w+ finished/);
      const health = await (await fetch(`http://127.0.0.1:${port}/health`)).json();
      assert.match(health.schedule_time_zone, /^Asia\/(Kolkata|Calcutta)$/);
      assert.match(health.next_run, /T22:00:00\.000Z$/);
      const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      assert.match(page, /22:00:00 UTC<\/time> \(\d{4}-\d\d-\d\d 03:30 local time, Asia\//);
      assert.match(
        page,
        /<code>30 3 \* \* \*<\/code> in this machine's local time \(Asia\/(Kolkata|Calcutta)\); other times on this page are UTC/,
      );
      const stop = await runCliProcess(["stop", "--config", config]);
      assert.equal(stop.code, 0, stop.stdout + stop.stderr);
      const result = await service.exit;
      assert.equal(result.code, 0);
      const line = result.stderr.split("\n").find((l) => l.includes("Next run")) ?? "";
      assert.match(
        line,
        /Next run \d{4}-\d\d-\d\d 22:00:00 UTC \(\d{4}-\d\d-\d\d 03:30 local time, Asia\/(Kolkata|Calcutta), UTC\+05:30\); next reconcile \d{4}-\d\d-\d\d 22:30:00 UTC \(\d{4}-\d\d-\d\d 04:00 local time, Asia\/(Kolkata|Calcutta), UTC\+05:30\): 'schedule' and 'reconcile_schedule' run in this machine's local time \(Asia\/(Kolkata|Calcutta)\); every time in the log is UTC/,
      );
    } finally {
      service.child.kill();
      await sim.close();
    }
  });
});
