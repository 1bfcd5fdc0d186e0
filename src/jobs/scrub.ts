/**
 * `act-sync scrub`: apply `exclude_fields` and `hash_fields` to the values already stored, in
 * place: the columns of excluded fields set to NULL, those of hashed fields replaced by their
 * HMAC-SHA-256 (text columns; a column of another type is cleared, and the next full sync of the
 * table writes the hashes). The table's records kept in `_act_rejected` get the same rules in their
 * text. Holds the state file's lock, as a run does, so no run writes meanwhile.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import { DestinationError, errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { openSink, type Sink } from "../sink/mod.ts";
import { acquireLock } from "../state/mod.ts";
import { applyFieldRules, type FieldRules, hashValue } from "../sync/fields.ts";
import { NOT_KEPT } from "../sync/rejects.ts";
import { parseExactJson } from "../act/exact_json.ts";
import { fieldRulesOf, formatTable } from "./_session.ts";

/** What {@linkcode runScrub} did: one line per column changed. */
export interface ScrubRun {
  ok: boolean;
  columns: { table: string; column: string; action: "cleared" | "hashed"; rows: number }[];
  error?: string;
}

/** Scrub every table with rules; prints a table of the columns changed to `stdout`. */
export async function runScrub(
  config: Config,
  deps: { logger: Logger; stdout: (text: string) => void },
): Promise<ScrubRun> {
  const rules = Object.entries(fieldRulesOf(config));
  const run: ScrubRun = { ok: true, columns: [] };
  if (rules.length === 0) {
    deps.logger.warning(`Nothing to scrub: 'exclude_fields' and 'hash_fields' are empty`);
    return run;
  }
  const lock = acquireLock(config.state_file);
  try {
    let sink;
    try {
      sink = await openSink(config.destination, { logger: deps.logger });
    } catch (error) {
      throw new DestinationError(errorMessage(error), { cause: error });
    }
    try {
      for (const [table, r] of rules) {
        const rejected = await scrubRejected(sink, table, r!);
        if (rejected > 0) {
          run.columns.push({ table, column: REJECTED_RAW, action: "cleared", rows: rejected });
          deps.logger.info(`Scrubbed ${table} in ${REJECTED_RAW}: ${rejected} records rewritten`);
        }
        const result = await sink.scrub(
          table,
          { clear: r!.exclude, hash: r!.hash },
          (text) => hashValue(text, r!.key),
        );
        for (const [column, { action, rows }] of Object.entries(result)) {
          run.columns.push({ table, column, action, rows });
          deps.logger.info(`Scrubbed ${table}.${column}: ${rows} rows ${action}`);
        }
      }
    } finally {
      await sink.close();
    }
  } catch (error) {
    run.ok = false;
    run.error = errorMessage(error);
    deps.logger.severe(`Scrub failed: ${run.error}; nothing was changed in the table it was at`);
    return run;
  } finally {
    lock.release();
  }
  deps.stdout(
    run.columns.length === 0
      ? "No stored column matches 'exclude_fields' or 'hash_fields'\n"
      : formatTable(
        ["table", "column", "action", "rows"],
        run.columns.map((c) => [c.table, c.column, c.action, String(c.rows)]),
      ),
  );
  return run;
}

/** How the records kept in `_act_rejected` show in the scrub's table. */
const REJECTED_RAW = "_act_rejected.raw";

// `JSON.rawJSON` (V8 and JavaScriptCore), not yet in TypeScript's lib.
const rawJson = (JSON as unknown as { rawJSON(text: string): object }).rawJSON;

/**
 * Rewrite the text of `table`'s records in `_act_rejected` with `rules` applied (their
 * `last_seen` kept); returns how many changed.
 */
async function scrubRejected(sink: Sink, table: string, rules: FieldRules): Promise<number> {
  let changed = 0;
  for (const entry of await sink.rejected()) {
    if (entry.table !== table) continue;
    const raw = scrubbedText(entry.raw, rules);
    if (raw === entry.raw) continue;
    const { id, parent, key, reason } = entry;
    await sink.reject(table, [{ id, parent, key, reason, raw }], entry.lastSeen);
    changed++;
  }
  return changed;
}

/**
 * A rejected record's text with `rules` applied (values already hashed left as they are), its
 * numbers as they were; the text itself when no rule matches it. Text that is not a JSON object
 * cannot have them applied: it is not kept ({@linkcode NOT_KEPT}).
 */
export function scrubbedText(raw: string, rules: FieldRules): string {
  if (raw === NOT_KEPT) return raw;
  let record: unknown;
  try {
    record = parseExactJson(raw);
  } catch {
    return NOT_KEPT;
  }
  if (!record || typeof record !== "object" || Array.isArray(record)) return NOT_KEPT;
  const out = applyFieldRules(record as Record<string, unknown>, rules, { keepHashed: true });
  if (out === record) return raw;
  return JSON.stringify(out, (_key, v) => typeof v === "bigint" ? rawJson(String(v)) : v);
}
