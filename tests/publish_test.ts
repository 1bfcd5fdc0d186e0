// publish_to and `act-sync backup`: a read-only, consistent snapshot that a reader in another
// process never sees half written; a failed publish leaves the run green.
import { after, before, describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { DatabaseSync } from "node:sqlite";
import { type RunningSimulator, simulatorConfig, startSimulator } from "../src/simulator/mod.ts";
import { writeSnapshot } from "../src/sink/snapshot.ts";
import { runCliProcess, tempDir } from "./_helpers.ts";
import { odbcQuery, odbcSkip } from "./_odbc.ts";

const dir = tempDir("act-sync-publish-");
after(() => rmSync(dir, { recursive: true, force: true }));

/** Rows of one query in a SQLite file opened read-only. */
function read(path: string, sql: string): Record<string, unknown>[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return (db.prepare(sql).all() as Record<string, unknown>[]).map((row) => ({ ...row }));
  } finally {
    db.close();
  }
}

/**
 * A reader in another process: opens `path` again and again (at most `rounds` times, until
 * `stop` exists), checks the file and counts the rows of `contacts`; prints a JSON summary.
 */
const READER = `
import { existsSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
const [path, stop, rounds] = [process.env.PUB_PATH, process.env.PUB_STOP, Number(process.env.PUB_ROUNDS)];
const out = { opened: 0, torn: [], counts: [] };
for (let i = 0; i < rounds && !existsSync(stop); i++) {
  try {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      const check = db.prepare("PRAGMA quick_check").get();
      if (check.quick_check !== "ok") out.torn.push(String(check.quick_check));
      const { n } = db.prepare("SELECT count(*) AS n FROM contacts").get();
      if (!out.counts.includes(Number(n))) out.counts.push(Number(n));
      out.opened++;
    } finally {
      db.close();
    }
  } catch (error) {
    if (out.torn.length < 5) out.torn.push(String(error && error.message));
    else out.torn.push("…");
  }
}
console.log(JSON.stringify(out));
`;

/** Start the reader; resolves with its summary once it ends. */
function startReader(path: string, stop: string, rounds: number) {
  const script = join(dir, "reader.mjs");
  writeFileSync(script, READER);
  const args = process.versions.bun ? [script] : ["run", "-A", script];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, PUB_PATH: path, PUB_STOP: stop, PUB_ROUNDS: String(rounds) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c) => stdout += c);
  child.stderr!.on("data", (c) => stderr += c);
  return new Promise<{ opened: number; torn: string[]; counts: number[] }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`reader exited ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

describe("publish_to and act-sync backup", () => {
  let running: RunningSimulator;
  before(async () => {
    running = await startSimulator({ records: 40, seed: 9 });
  });
  after(() => running.close());

  function writeConfig(name: string, extra: Record<string, unknown>): string {
    const path = join(dir, `${name}.json`);
    const config = simulatorConfig(running.url, {
      destination: `sqlite:${join(dir, `${name}.db`)}`,
      state_file: join(dir, `${name}-state.json`),
      tables: "contacts,companies,history",
      ...extra,
    });
    writeFileSync(path, JSON.stringify(config));
    return path;
  }

  test("after a run: a read-only copy, not in WAL mode, with every row", async () => {
    const published = join(dir, "share", "act.db");
    rmSync(join(dir, "share"), { recursive: true, force: true });
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(dir, "share"));
    const config = writeConfig("run", { publish_to: published });
    const result = await runCliProcess(["--once", "-c", config], { timeoutMs: 120_000 });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Published a read-only snapshot of the database to ".*act\.db"/);
    assert.ok(existsSync(published));
    assert.equal(statSync(published).mode & 0o222, 0, "read-only");
    assert.deepEqual(readdirSync(join(dir, "share")), ["act.db"], "no temporary file left");
    assert.deepEqual(read(published, "PRAGMA journal_mode"), [{ journal_mode: "delete" }]);
    for (const table of ["contacts", "companies", "history"]) {
      const sql = `SELECT * FROM ${table} ORDER BY id`;
      assert.deepEqual(read(published, sql), read(join(dir, "run.db"), sql), table);
    }
    const live = "SELECT count(*) AS n FROM contacts_live";
    assert.deepEqual(read(published, live), read(join(dir, "run.db"), live));
  });

  test("a failed publish is a WARNING and the run succeeds (exit code 0)", async () => {
    const blocker = join(dir, "not-a-folder");
    writeFileSync(blocker, "x");
    const config = writeConfig("fail", { publish_to: join(blocker, "act.db") });
    const result = await runCliProcess(["--once", "-c", config], { timeoutMs: 120_000 });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /WARNING.*Publishing failed: Cannot write snapshot ".*act\.db"/);
    assert.match(result.stderr, /the sync itself succeeded/);
    assert.equal(
      read(join(dir, "fail.db"), "SELECT count(*) AS n FROM contacts")[0].n,
      running.sim.count("contacts"),
    );
  });

  test("act-sync backup FILE writes the same snapshot; --help says so", async () => {
    const config = writeConfig("run", {});
    const target = join(dir, "backup.db");
    const result = await runCliProcess(["backup", target, "-c", config], { timeoutMs: 60_000 });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(read(target, "PRAGMA journal_mode"), [{ journal_mode: "delete" }]);
    assert.equal(
      read(target, "SELECT count(*) AS n FROM contacts")[0].n,
      running.sim.count("contacts"),
    );
    const help = await runCliProcess(["backup", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: act-sync backup FILE/);
    const none = await runCliProcess(["backup", "-c", config]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /backup takes one file name/);
  });

  test("a reader in another process never sees a torn file while snapshots replace it", async () => {
    const source = join(dir, "busy.db");
    const published = join(dir, "busy-copy.db");
    const db = new DatabaseSync(source);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("CREATE TABLE contacts (id TEXT PRIMARY KEY, name TEXT)");
    const insert = db.prepare("INSERT INTO contacts VALUES (?, ?)");
    const grow = (from: number) => {
      db.exec("BEGIN");
      for (let i = from; i < from + 2000; i++) insert.run(`c${i}`, "x".repeat(200));
      db.exec("COMMIT");
    };
    grow(0);
    writeSnapshot(source, published);
    const stop = join(dir, "busy.stop");
    const reader = startReader(published, stop, 3000);
    try {
      for (let round = 1; round <= 15; round++) {
        grow(round * 2000);
        writeSnapshot(source, published);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      writeFileSync(stop, "");
      db.close();
    }
    const seen = await reader;
    assert.deepEqual(seen.torn, [], "no torn or partial file");
    assert.ok(seen.opened > 0, "the reader opened the file");
    assert.ok(seen.counts.every((n) => n % 2000 === 0), "only whole snapshots");
  });
});

describe("the published copy through the ODBC driver", { skip: odbcSkip() }, () => {
  test("dates read as dates from the copy's views", () => {
    const copy = join(dir, "share", "act.db");
    const [live] = odbcQuery(copy, ["SELECT created FROM contacts_live"]);
    assert.deepEqual(live.columns, [["created", "datetime"]]);
  });
});
