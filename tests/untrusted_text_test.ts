/**
 * Text from the state file or the server (table names, run ids, errors) reaches a terminal or a
 * browser escaped as the logs escape it: no ESC sequence, no right-to-left override.
 */
import { after, describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatState } from "../src/cli/state.ts";
import { Monitor } from "../src/service/monitor.ts";
import { renderStatusPage } from "../src/service/status_page.ts";
import type { State } from "../src/state/mod.ts";
import { runCliProcess, tempDir } from "./_helpers.ts";

const ESC = "\u001b";
const RLO = "\u202e";
/** Any character the logs escape: C0, DEL, C1, line separators, bidi controls. */
// deno-lint-ignore no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const dir = tempDir("act-sync-untrusted-");
after(() => rmSync(dir, { recursive: true, force: true }));

/** A state file as a hostile writer (or a hostile server, through errors) could leave it. */
function hostileState(): State {
  const table = `evil${ESC}[2J${RLO}gpj.exe`;
  return {
    table_cursors: { contacts: "2026-03-01T00:00:00Z", [table]: "2026-02-01T00:00:00Z" },
    table_batch_tracking: {},
    tables: {
      contacts: {
        last_success: "2026-03-01T00:00:00Z",
        last_error: { message: `HTTP 500${RLO}: ${ESC}[31mred`, at: "2026-03-01T00:00:00Z" },
        rows_total: 3,
      },
    },
    history: [{
      id: `r${RLO}1`,
      reason: `sched${ESC}[1mule`,
      started_at: "2026-03-01T00:00:00Z",
      duration_seconds: 1,
      result: "ok",
      rows_written: 1,
      rows_new: 1,
      rows_updated: 0,
      rows_unchanged: 0,
      rows_total: { contacts: 3 },
    }],
  };
}

describe("act-sync state", () => {
  test("formatState() escapes ESC and U+202E in every cell", () => {
    const text = formatState(hostileState(), ["contacts"]);
    assert.doesNotMatch(text.replaceAll("\n", ""), UNSAFE);
    assert.ok(text.includes("evil\\u001b[2J\\u202egpj.exe"), text);
    assert.ok(text.includes("HTTP 500\\u202e: \\u001b[31mred"), text);
  });

  test("the table and --json print no raw control character from state.json", async () => {
    const stateFile = join(dir, "state.json");
    writeFileSync(stateFile, JSON.stringify(hostileState()));
    const config = join(dir, "configuration.json");
    writeFileSync(
      config,
      JSON.stringify({
        hostname: "act.example.com",
        username: "u",
        password: "p-123456",
        database_name: "db",
        state_file: stateFile,
        tables: ["contacts"],
      }),
    );
    for (const args of [["state"], ["state", "--json"]]) {
      const result = await runCliProcess([...args, "--config", config]);
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stdout.replaceAll("\n", ""), UNSAFE, args.join(" "));
      assert.ok(result.stdout.includes("\\u202e"), result.stdout);
    }
    const json = await runCliProcess(["state", "--json", "--config", config]);
    assert.deepEqual(JSON.parse(json.stdout), hostileState(), "--json stays the same JSON");
  });
});

describe("the status page", () => {
  test("escapes ESC and U+202E from errors, run ids and reasons", () => {
    const monitor = new Monitor({
      tables: ["contacts"],
      schedule: "* * * * *",
      intervalMs: 60_000,
      state: hostileState(),
    });
    monitor.runStarted("a1", "start-up");
    monitor.runCrashed(new Error(`lock${RLO} held${ESC}[0m`));
    const page = renderStatusPage(monitor.snapshot(), { warnings: [`warn${RLO}ing`] });
    assert.doesNotMatch(page.replaceAll("\n", ""), UNSAFE);
    for (const shown of ["r\\u202e1", "sched\\u001b[1mule", "lock\\u202e held", "warn\\u202eing"]) {
      assert.ok(page.includes(shown), `${shown} shown escaped`);
    }
  });
});
