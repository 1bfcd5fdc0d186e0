// A conventional command line: per-command help, refused flags, "did you mean", short flags,
// dry runs, a readable `state`, the config next to the executable, `act-sync stop`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../src/cli/mod.ts";
import { type RunningSimulator, simulatorConfig, startSimulator } from "../src/simulator/mod.ts";
import { freePort, runCliProcess, spawnCli, sqliteRows, tempDir } from "./_helpers.ts";

const dir = tempDir("act-sync-help-");
after(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI in this process (no Act! calls): exit code and output. */
async function cli(args: string[], options: { cwd?: string; exeDir?: string } = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runCli({
    args,
    env: {},
    cwd: options.cwd ?? dir,
    exeDir: options.exeDir,
    isTty: false,
    stdout: (t) => stdout += t,
    stderr: (t) => stderr += t,
  });
  return { code, stdout, stderr };
}

test("COMMAND --help shows that command's usage, flags and examples", async () => {
  const reconcile = await runCliProcess(["reconcile", "--help"]);
  assert.equal(reconcile.code, 0);
  assert.match(reconcile.stdout, /^Usage: act-sync reconcile/);
  assert.match(reconcile.stdout, /--force/);
  assert.match(reconcile.stdout, /--dry-run/);
  assert.match(reconcile.stdout, /Examples:/);
  const simulate = await cli(["simulate", "-h"]);
  assert.equal(simulate.code, 0);
  // Every switch the simulator's parser takes is listed.
  const source = readFileSync(new URL("../src/cli/simulate.ts", import.meta.url), "utf8");
  const table = source.slice(source.indexOf("function parseArgsStrict"));
  const names = [...table.matchAll(/^\s+"([a-z-]+)",$/gm)].map((m) => m[1]);
  assert.ok(names.length > 20, names.join());
  for (const name of names) assert.match(simulate.stdout, new RegExp(`--${name}\\b`), name);
  for (const command of ["state", "reset", "check", "stop", "demo"]) {
    const help = await cli([command, "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, new RegExp(`act-sync ${command}`));
  }
  const general = await cli(["-h"]);
  assert.match(general.stdout, /act-sync stop/);
  assert.match(general.stdout, /4 Act! refused the login/);
  assert.match((await cli(["-V"])).stdout, /^act-sync \d+\.\d+\.\d+/);
});

test("flags a command does not take are refused; unknown commands and tables get did you mean", async () => {
  const force = await cli(["state", "--force"]);
  assert.equal(force.code, 2);
  assert.match(force.stderr, /Unknown flag for this command: "--force"/);
  assert.match(force.stderr, /act-sync state --help/);
  const typo = await cli(["reconcile", "--dryrun"]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /did you mean "--dry-run"\?/);
  const command = await cli(["stat"]);
  assert.equal(command.code, 2);
  assert.match(command.stderr, /Unknown command: "stat": did you mean "state"\?/);
  const table = await cli(["reset", "contcts"]);
  assert.equal(table.code, 2);
  assert.match(table.stderr, /Unknown table: "contcts": did you mean "contacts"\?/);
});

describe("with a configuration", () => {
  let running: RunningSimulator;
  let config: string;
  before(async () => {
    running = await startSimulator({ records: 30, seed: 9 });
    config = join(dir, "configuration.json");
    writeFileSync(
      config,
      JSON.stringify(simulatorConfig(running.url, {
        destination: "sqlite:act.db",
        state_file: "state.json",
        http_port: await freePort(),
      })),
    );
    const first = await runCliProcess(["--once", "-c", config, "-q"]);
    assert.equal(first.code, 0, first.stderr);
    // -q: no INFO lines.
    assert.doesNotMatch(first.stderr, /INFO/);
  });
  after(() => running.close());

  test("a bad flag value is a usage error, not 'Cannot load config'", async () => {
    const result = await cli(["state", "-c", config, "--http-port", "abc"]);
    assert.equal(result.code, 2);
    assert.doesNotMatch(result.stderr, /Cannot load config/);
    assert.match(result.stderr, /abc/);
  });

  test("state prints a table by default, --json the raw file; a missing --state is an error", async () => {
    const table = await cli(["state", "-c", config]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^table\s+cursor\s+last success/);
    assert.match(table.stdout, /^contacts\s+\d{4}-\d\d-\d\dT/m);
    const raw = await cli(["state", "--json", "-c", config]);
    assert.ok(JSON.parse(raw.stdout).table_cursors.contacts);
    const missing = await cli(["state", "-c", config, "--state", join(dir, "missing.json")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /No state file at ".*missing\.json"/);
  });

  test("reset --dry-run says what would be reset and changes nothing", async () => {
    const before = readFileSync(join(dir, "state.json"), "utf8");
    const result = await cli(["reset", "contacts", "--dry-run", "-c", config]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Dry run: nothing changed/);
    assert.match(result.stdout, /contacts: cursor \d{4}-.* would be forgotten/);
    assert.match(
      result.stdout,
      /^Dry run: nothing changed; contacts would be re-read from the start\n/,
    );
    assert.equal(readFileSync(join(dir, "state.json"), "utf8"), before);
  });

  test("in a fresh folder, reset says there is nothing to reset and reconcile --dry-run creates no file", async () => {
    const fresh = join(dir, "fresh");
    mkdirSync(fresh, { recursive: true });
    const freshConfig = join(fresh, "configuration.json");
    writeFileSync(
      freshConfig,
      JSON.stringify(simulatorConfig(running.url, {
        destination: "sqlite:act.db",
        state_file: "state.json",
      })),
    );
    for (const args of [["reset", "contacts"], ["reset", "contacts", "--dry-run"], ["reset"]]) {
      const reset = await cli([...args, "-c", freshConfig]);
      assert.equal(reset.code, 0, reset.stderr);
      assert.match(reset.stdout, /^Nothing to reset: there is no state file ".*state\.json"/);
    }
    const dry = await runCliProcess(["reconcile", "contacts", "--dry-run", "-c", freshConfig]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /Dry run: nothing was changed/);
    // The lock file stays, as after every run (it holds the OS lock).
    assert.deepEqual(readdirSync(fresh).filter((f) => !f.endsWith(".lock")), [
      "configuration.json",
    ]);
  });

  test("reconcile --dry-run counts what would change and changes nothing", async () => {
    const deletedId = running.sim.rows("contacts")[0].id as string;
    running.sim.remove("contacts", deletedId);
    const stateBefore = readFileSync(join(dir, "state.json"), "utf8");
    const result = await runCliProcess(["reconcile", "contacts", "--dry-run", "-c", config]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Dry run: nothing was changed/);
    assert.match(result.stderr, /would_delete=1/);
    assert.equal(readFileSync(join(dir, "state.json"), "utf8"), stateBefore);
    const rows = [...sqliteRows(join(dir, "act.db"), "contacts").values()];
    assert.equal(rows.filter((r) => Number(r._act_deleted) === 1).length, 0);
  });

  test("the default config is looked up in the current folder, then next to the executable", async () => {
    const empty = join(dir, "empty");
    mkdirSync(empty, { recursive: true });
    const found = await cli(["state", "--json"], { cwd: empty, exeDir: dir });
    assert.equal(found.code, 0, found.stderr);
    assert.ok(JSON.parse(found.stdout).table_cursors);
    const none = await cli(["state"], { cwd: empty, exeDir: join(dir, "nowhere") });
    assert.equal(none.code, 2);
    assert.ok(none.stderr.includes(join(empty, "configuration.json")), none.stderr);
    assert.ok(none.stderr.includes(join(dir, "nowhere", "configuration.json")), none.stderr);
  });

  test("act-sync stop asks the running service to finish and exit 0", async () => {
    const service = spawnCli(["-c", config]);
    await service.waitFor(/Run \w+ finished|Monitoring on/);
    const stop = await runCliProcess(["stop", "-c", config]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /Stop requested/);
    const ended = await service.exit;
    assert.equal(ended.code, 0, ended.stderr);
    assert.match(ended.stderr, /Service stopped/);
    assert.ok(existsSync(join(dir, "state.json")));
    // Nothing listens any more: stop says so and exits 1.
    const again = await runCliProcess(["stop", "-c", config]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /Cannot reach the service/);
  });
});
