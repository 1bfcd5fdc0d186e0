/**
 * Honest counts and progress: a write reports rows new, updated and re-read unchanged
 * (SQLite, and PostgreSQL when ACT_SYNC_TEST_PG is set); a run's summary shows them with a totals
 * line and long errors below the table; progress lines on a terminal and, at most every 10 s, in
 * a log.
 */
import { after, describe, postgresSkip, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { createLogger, silentLogger } from "../src/core/log.ts";
import { formatSummary, runSync, stopNote, type SyncRun } from "../src/jobs/sync.ts";
import type { TableResult } from "../src/sync/engine.ts";
import type { TableName } from "../src/act/tables.ts";
import {
  formatProgressLine,
  LOG_PROGRESS_INTERVAL_MS,
  progressReporter,
  sharedTerminal,
} from "../src/jobs/progress.ts";
import { runCli } from "../src/cli/mod.ts";
import { writeFileSync } from "node:fs";
import { simulatorConfig } from "../src/simulator/mod.ts";
import { openSink } from "../src/sink/mod.ts";
import type { FlatPage, FlatRow } from "../src/sink/sink.ts";
import { startSimulator } from "../src/simulator/mod.ts";
import { configForSimulator, tempDir } from "./_helpers.ts";
import { TestDatabase } from "./_postgres.ts";

function page(rows: FlatRow[]): FlatPage {
  return {
    rows,
    types: new Map([["name", "text"], ["n", "integer"], ["when", "datetime"], ["tags", "json"]]),
  };
}

const AT = "2024-05-01T00:00:00Z";

async function checkCounts(destination: string): Promise<void> {
  const sink = await openSink(destination);
  try {
    const first = await sink.write(
      "things",
      page([
        { id: "a", name: "A", n: 1, when: AT, tags: "[1]" },
        { id: "b", name: "B", n: 2, when: AT, tags: null },
        { id: "c", name: null, n: 3, when: AT, tags: "[]" },
      ]),
      AT,
    );
    assert.deepEqual(first.changes, { inserted: 3, updated: 0, unchanged: 0 });
    assert.equal(first.written, 3);
    const second = await sink.write(
      "things",
      page([
        { id: "a", name: "A", n: 1, when: AT, tags: "[1]" }, // same values
        { id: "b", name: "B", n: 5, when: AT, tags: null }, // n changed
        { id: "c", name: null, n: 3, when: AT, tags: "[]" }, // same, NULL included
        { id: "d", name: "D", n: 4, when: AT, tags: null }, // new
      ]),
      "2024-05-02T00:00:00Z",
    );
    assert.deepEqual(second.changes, { inserted: 1, updated: 1, unchanged: 2 });
    assert.equal(await sink.markDeleted("things", ["a"], AT), 1);
    const third = await sink.write(
      "things",
      page([
        { id: "a", name: "A", n: 1, when: AT, tags: "[1]" }, // same values, but was deleted
        { id: "b", name: "B", n: 5, when: AT, tags: null },
      ]),
      AT,
    );
    assert.deepEqual(third.changes, { inserted: 0, updated: 1, unchanged: 1 });
  } finally {
    await sink.close();
  }
}

describe("a write counts rows new, updated and unchanged", () => {
  test("SQLite", async () => {
    await checkCounts(`sqlite:${join(tempDir(), "counts.db")}`);
  });

  test("SQLite: the counted write leaves every row as an upsert would", async () => {
    const path = join(tempDir(), "state.db");
    const sink = await openSink(`sqlite:${path}`);
    try {
      await sink.write("things", page([{ id: "a", name: "A", n: 1, when: AT, tags: "[1]" }]), AT);
      await sink.write("things", page([{ id: "b", name: "B", n: 2, when: AT, tags: null }]), AT);
      await sink.write("things", page([{ id: "c", name: "C", n: 3, when: AT, tags: null }]), AT);
      assert.equal(await sink.markDeleted("things", ["b"], AT), 1);
      const later = "2024-05-03T00:00:00.000Z";
      const again = await sink.write(
        "things",
        page([
          { id: "a", name: "A", n: 1, when: AT, tags: "[1]" }, // unchanged: only _act_synced
          { id: "b", name: "B", n: 2, when: AT, tags: null }, // was deleted: revived
          { id: "c", name: "C", n: 3, when: AT, tags: null }, // unchanged
          { id: "c", name: null, n: 7, when: AT, tags: null }, // same id again, changed
        ]),
        later,
      );
      assert.deepEqual(again.changes, { inserted: 0, updated: 2, unchanged: 2 });
    } finally {
      await sink.close();
    }
    const db = new DatabaseSync(path);
    try {
      const rows = db.prepare(
        "SELECT id, name, n, tags, _act_synced, _act_deleted, _act_deleted_at FROM things " +
          "ORDER BY id",
      ).all().map((r) => ({ ...r }));
      assert.deepEqual(rows, [
        {
          id: "a",
          name: "A",
          n: 1,
          tags: "[1]",
          _act_synced: "2024-05-03T00:00:00.000Z",
          _act_deleted: 0,
          _act_deleted_at: null,
        },
        {
          id: "b",
          name: "B",
          n: 2,
          tags: null,
          _act_synced: "2024-05-03T00:00:00.000Z",
          _act_deleted: 0,
          _act_deleted_at: null,
        },
        {
          id: "c",
          name: null,
          n: 7,
          tags: null,
          _act_synced: "2024-05-03T00:00:00.000Z",
          _act_deleted: 0,
          _act_deleted_at: null,
        },
      ]);
    } finally {
      db.close();
    }
  });

  const db = new TestDatabase("counts");
  after(() => db.drop());
  test("PostgreSQL", { skip: postgresSkip() }, async () => {
    await db.sql();
    await checkCounts(db.url());
  });
});

describe("a run's counts and summary", () => {
  test("a first run counts every row new; a re-run counts only the changed rows updated", async () => {
    const running = await startSimulator({ records: 60, seed: 3 });
    try {
      const dir = tempDir();
      const config = configForSimulator(running.url, {
        tables: "contacts",
        batch_size: "25",
        destination: `sqlite:${join(dir, "act.db")}`,
        state_file: join(dir, "state.json"),
      });
      const first = await runSync(config, {}, { logger: silentLogger() });
      assert.equal(first.ok, true, String(first.error));
      const contacts = running.sim.count("contacts");
      // Rows re-read at a page boundary count as unchanged, not new.
      assert.equal(first.tables[0].changes.inserted, contacts);
      assert.equal(first.tables[0].changes.updated, 0);
      const ids = running.sim.rows("contacts").slice(0, 3).map((r) => String(r.id));
      running.sim.touch("contacts", ids);
      const second = await runSync(config, {}, { logger: silentLogger() });
      assert.equal(second.ok, true, String(second.error));
      const { inserted, updated, unchanged } = second.tables[0].changes;
      assert.equal(inserted, 0);
      assert.equal(updated, 3);
      assert.equal(inserted + updated + unchanged, second.tables[0].rowsWritten);
      const summary = formatSummary(second);
      const written = second.tables[0].rowsWritten;
      assert.match(summary, /\bwritten\b/);
      assert.match(
        summary,
        new RegExp(`total: \\d+ read, ${written} written, 0 new, 3 updated, \\d+ unchanged in`),
      );
      assert.ok(summary.includes(`into sqlite:${join(dir, "act.db")}`), summary);
    } finally {
      await running.close();
    }
  });

  test("a stopped run says how far it got, not that a table failed", () => {
    const table = (name: TableName, status: "ok" | "stopped"): TableResult => ({
      table: name,
      status,
      rowsRead: 10,
      rowsWritten: 10,
      changes: { inserted: 10, updated: 0, unchanged: 0 },
      newColumns: [],
      durationMs: 100,
      requests: 1,
      emptyFirstRead: false,
      ...(status === "stopped" ? { error: "stopped by request" } : {}),
    });
    const run: SyncRun = {
      ok: false,
      tables: [
        table("contacts", "ok"),
        table("companies", "ok"),
        table("groups", "ok"),
        table("activities", "stopped"),
      ],
      state: { table_cursors: {}, table_batch_tracking: {} },
      startedAt: AT,
      durationMs: 6000,
      planned: 10,
      stopped: true,
    };
    const summary = formatSummary(run);
    assert.match(
      summary,
      /Stopped by request after 3 of 10 tables: the next run resumes where this one stopped\n/,
    );
    assert.doesNotMatch(summary, /failed/);
    assert.equal(
      stopNote(run),
      "stopped by request after 3 of 10 tables: the next run resumes where this one stopped",
    );
  });

  test("a long error goes below the table", () => {
    const error = "GET /act.web.api/api/contacts failed with status 500: " + "x".repeat(80);
    const run: SyncRun = {
      ok: false,
      tables: [{
        table: "contacts",
        status: "failed",
        rowsRead: 0,
        rowsWritten: 0,
        changes: { inserted: 0, updated: 0, unchanged: 0 },
        newColumns: [],
        durationMs: 100,
        requests: 1,
        emptyFirstRead: false,
        error,
      }],
      state: { table_cursors: {}, table_batch_tracking: {} },
      startedAt: AT,
      durationMs: 1234,
    };
    const [table, rest] = formatSummary(run).split("total:");
    assert.ok(!table.includes(error) && table.includes("failed (see below)"), table);
    assert.ok(rest.includes(`contacts: ${error}`), rest);
  });
});

describe("progress", () => {
  test("in a log: one line every 10 s at most, none for a short run", () => {
    let clock = 0;
    const lines: string[] = [];
    const logger = createLogger({ write: (line) => lines.push(line) });
    const reporter = progressReporter({ logger, now: () => clock });
    for (let i = 1; i <= 30; i++) { // a page every 1.5 s for 45 s
      clock = i * 1500;
      reporter.report({ table: "contacts", rows: i * 1000, elapsedMs: clock });
    }
    reporter.done();
    assert.equal(lines.length, Math.floor(45_000 / LOG_PROGRESS_INTERVAL_MS), lines.join("\n"));
    assert.match(lines[0], /Table contacts: 7,000 rows so far/);
    assert.match(lines[0], /per_second=667/);
    const quiet: string[] = [];
    const short = progressReporter({
      logger: createLogger({ write: (l) => quiet.push(l) }),
      now: () => clock,
    });
    for (let i = 1; i <= 6; i++) {
      clock += 1500;
      short.report({ table: "companies", rows: i * 10, elapsedMs: i * 1500 });
    }
    assert.deepEqual(quiet, []);
  });

  test("on a terminal: the line is rewritten in place, a bar when the total is known", () => {
    assert.equal(
      formatProgressLine({ table: "contacts", rows: 70_000, elapsedMs: 5600, total: 200_000 }),
      "contacts  [#######.............]  35%  70,000 rows of 200,000  12,500 rows/s  about 10 s left",
    );
    assert.equal(
      formatProgressLine({ table: "companies", rows: 1500, elapsedMs: 3000, what: "ids" }),
      "companies  1,500 ids  500 ids/s",
    );
    let clock = 0;
    let out = "";
    const reporter = progressReporter({ tty: (t) => out += t, now: () => clock });
    reporter.report({ table: "contacts", rows: 10, elapsedMs: 1000 });
    clock = 100; // within 250 ms: not redrawn
    reporter.report({ table: "contacts", rows: 20, elapsedMs: 1100 });
    clock = 400;
    reporter.report({ table: "contacts", rows: 30, elapsedMs: 1400 });
    clock = 450; // a new table starts a new line at once
    reporter.report({ table: "companies", rows: 5, elapsedMs: 50 });
    reporter.done();
    assert.equal(
      out,
      "\rcontacts  10 rows  10 rows/s\x1b[K\rcontacts  30 rows  21 rows/s\x1b[K" +
        "\ncompanies  5 rows  100 rows/s\x1b[K\n",
    );
  });

  test("on a terminal: a log line clears the progress line, which is redrawn below it", () => {
    let clock = 0;
    let out = "";
    const terminal = sharedTerminal((text) => out += text);
    const logger = createLogger({
      write: (line) => terminal(line + "\n"),
      now: () => new Date(Date.UTC(2026, 0, 2)),
    });
    const reporter = progressReporter({ tty: terminal, now: () => clock });
    reporter.report({ table: "contacts", rows: 2004, elapsedMs: 1256 });
    logger.info("Table contacts synced");
    clock = 1000;
    reporter.report({ table: "contacts", rows: 3000, elapsedMs: 2000 });
    clock = 1100;
    reporter.report({ table: "companies", rows: 5, elapsedMs: 50 });
    logger.warning("Table companies is slow");
    logger.info("Another line");
    reporter.done();
    logger.info("Run finished");
    assert.deepEqual(screen(out), [
      "2026-01-02T00:00:00.000Z INFO    Table contacts synced",
      "contacts  3,000 rows  1,500 rows/s",
      "2026-01-02T00:00:00.000Z WARNING Table companies is slow",
      "2026-01-02T00:00:00.000Z INFO    Another line",
      "companies  5 rows  100 rows/s",
      "2026-01-02T00:00:00.000Z INFO    Run finished",
      "",
    ]);
  });

  test("act-sync --once on a terminal: every log line is on its own line", async () => {
    const { url, close } = await startSimulator({ records: 30 });
    try {
      const dir = tempDir();
      const config = join(dir, "configuration.json");
      writeFileSync(
        config,
        JSON.stringify(simulatorConfig(url, {
          destination: `sqlite:${join(dir, "act.db")}`,
          state_file: join(dir, "state.json"),
          tables: "contacts,companies",
          batch_size: 10,
        })),
      );
      let stderr = "";
      const code = await runCli({
        args: ["--once", "--config", config],
        env: {},
        cwd: dir,
        stdout: () => {},
        stderr: (text) => stderr += text,
        isTty: true,
      });
      assert.equal(code, 0, stderr);
      assert.match(stderr, /rows\/s/, "progress lines were drawn");
      const lines = screen(stderr);
      const logLines = lines.filter((line) => / (INFO|WARNING|SEVERE|FINE) /.test(line));
      assert.ok(logLines.some((line) => /Table contacts/.test(line)), lines.join("\n"));
      for (const line of logLines) {
        assert.match(line, /^\d{4}-\d\d-\d\dT[\d:.]+Z (INFO|WARNING|SEVERE|FINE) /, line);
      }
    } finally {
      await close();
    }
  });
});

/** The lines a terminal shows for `text`: `\r` returns, `\x1b[K` erases to the end of line. */
function screen(text: string): string[] {
  const lines: string[] = [""];
  let column = 0;
  for (let i = 0; i < text.length; i++) {
    const row = lines.length - 1;
    if (text.startsWith("\x1b[K", i)) {
      lines[row] = lines[row].slice(0, column);
      i += 2;
    } else if (text[i] === "\r") column = 0;
    else if (text[i] === "\n") {
      lines.push("");
      column = 0;
    } else {
      const line = lines[row].padEnd(column);
      lines[row] = line.slice(0, column) + text[i] + line.slice(column + 1);
      column++;
    }
  }
  return lines;
}
