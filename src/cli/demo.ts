/**
 * `act-sync demo`: start the built-in simulator, sync it into `demo/act.db`, change some rows,
 * sync again, and show what a user could query next.
 *
 * @module
 */
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseFlags } from "./_flags.ts";
import type { CliDeps } from "./command.ts";
import { parseConfig } from "../config/mod.ts";
import { createLogger } from "../core/log.ts";
import { simulatorConfig, startSimulator } from "../simulator/mod.ts";
import { formatSummary, runSync } from "../jobs/sync.ts";
import { DatabaseSync } from "node:sqlite";
import { REPORT_QUERIES, type ReportQuery } from "../sink/queries.ts";

/** Run the demo; true when both syncs succeeded. */
export async function runDemo(args: string[], deps: CliDeps): Promise<boolean> {
  const { values } = parseFlags({
    args,
    options: { records: { type: "string" } },
    strict: true,
    allowPositionals: false,
  });
  const records = Number(values.records) || 3000;
  const folder = resolve(deps.cwd, "demo");
  // Start from scratch, touching only the demo's own files.
  for (const file of ["act.db", "act.db-wal", "act.db-shm", "state.json", "state.json.lock"]) {
    rmSync(join(folder, file), { force: true });
  }
  const running = await startSimulator({ records, seed: 42 });
  try {
    const { config } = parseConfig(
      simulatorConfig(running.url, {
        batch_size: 500,
        destination: "sqlite:act.db",
        state_file: "state.json",
      }),
      { baseDir: folder, env: {} },
    );
    const logger = createLogger({ level: "WARNING", write: (line) => deps.stderr(line + "\n") });
    const say = (text: string) => deps.stdout(text + "\n");
    say(`Simulated Act! Web API at ${running.url} (user demo, database ActDemo)`);
    say(`\nFirst run: every table is read in full into ${join(folder, "act.db")}\n`);
    const first = await runSync(config, {}, { logger, stdout: deps.stdout });
    deps.stdout(formatSummary(first));

    const sim = running.sim;
    const contacts = sim.rows("contacts").slice(0, 25);
    for (const contact of contacts) sim.edit("contacts", String(contact.id), { jobTitle: "CEO" });
    for (let i = 0; i < 10; i++) sim.insert("contacts");
    const closed = new Date().toISOString().slice(0, 19) + "+00:00"; // as Act! sends dates
    for (const opportunity of sim.rows("opportunities").slice(0, 5)) {
      sim.edit("opportunities", String(opportunity.id), {
        status: 1,
        statusName: "Won",
        actualCloseDate: closed,
      });
    }
    say(`\nChanged 25 contacts, added 10 contacts, won 5 opportunities in the simulator.`);
    say(`Second run: only what changed is read\n`);
    const second = await runSync(config, {}, { logger, stdout: deps.stdout });
    deps.stdout(formatSummary(second));

    const db = new DatabaseSync(join(folder, "act.db"), { readOnly: true });
    try {
      for (
        const query of [REPORT_QUERIES.pipelineByStage, REPORT_QUERIES.activitiesPerUserPerWeek]
      ) {
        say(`\n${report(db, query)}`);
      }
    } finally {
      db.close();
    }
    say(
      `\nMore report queries (won revenue per quarter, last contact per company…): see ` +
        `docs/reporting.md.`,
    );
    say(`\nTry it yourself:`);
    say(
      `  sqlite3 demo/act.db "SELECT fullName, jobTitle, businessAddress_city FROM contacts ` +
        `WHERE jobTitle = 'CEO' LIMIT 5"`,
    );
    say(
      `  sqlite3 demo/act.db "SELECT statusName, count(*), sum(productTotal) FROM opportunities ` +
        `GROUP BY statusName"`,
    );
    return first.ok && second.ok;
  } finally {
    await running.close();
  }
}

/** A report query, its SQL and its first rows as an aligned table. */
function report(db: DatabaseSync, query: ReportQuery, limit = 8): string {
  const rows = db.prepare(query.sqlite).all() as Record<string, unknown>[];
  const lines = [`${query.title}:`, "", ...query.sqlite.split("\n").map((l) => `  ${l}`), ""];
  if (rows.length === 0) return [...lines, "  (no rows)"].join("\n");
  const columns = Object.keys(rows[0]);
  const cells = [
    columns,
    ...rows.slice(0, limit).map((row) =>
      columns.map((c) => {
        const v = row[c];
        return typeof v === "number" && !Number.isInteger(v) ? v.toFixed(2) : String(v ?? "");
      })
    ),
  ];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  for (const r of cells) {
    lines.push(("  " + r.map((c, i) => c.padEnd(widths[i])).join("  ")).trimEnd());
  }
  if (rows.length > limit) lines.push(`  … ${rows.length - limit} more rows`);
  return lines.join("\n");
}
