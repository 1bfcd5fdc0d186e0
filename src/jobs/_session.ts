/**
 * What every run that touches Act! and the destination shares (sync, reconcile): the state
 * file's lock, the state, a logged-in client and an open sink, closed again in every case.
 * Also the plain-text table the summaries print.
 *
 * @module
 */
import { type ActClient, systemVersions } from "../act/client.ts";
import type { Config } from "../config/mod.ts";
import type { TableName } from "../act/tables.ts";
import type { FieldRules } from "../sync/fields.ts";
import { DestinationError, errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { Secrets } from "../core/secrets.ts";
import { openSink } from "../sink/mod.ts";
import type { Sink } from "../sink/sink.ts";
import { acquireLock, readState, type State } from "../state/mod.ts";

/**
 * What a run that Act! refused (error 4031 or 4032, on any request) reports: not ok, with the
 * refusal as its failure, so that it ends with exit code 4 and the refusal's advice.
 */
export function refusedRun(refusal: Error): { ok: false; error: string; failure: Error } {
  return { ok: false, error: errorMessage(refusal), failure: refusal };
}

/** An open session: the state as read, a logged-in client and an open destination. */
export interface Session {
  state: State;
  client: ActClient;
  sink: Sink;
}

/**
 * Take the lock (a LockError propagates: exit 3), read the state, log in, open the
 * destination, run `work`, then close and unlock. A failure before `work` (corrupt state file,
 * refused login, unreachable destination) comes back through `failed` with the state when it
 * was readable.
 */
export async function withSession<T>(
  config: Config,
  deps: {
    logger: Logger;
    signal?: AbortSignal;
    client: () => ActClient;
    /** Create no file: a SQLite destination that does not exist is read as empty. */
    dryRun?: boolean;
  },
  work: (session: Session) => Promise<T>,
  failed: (error: unknown, state: State | null) => T,
): Promise<T> {
  const lock = acquireLock(config.state_file);
  try {
    let state: State;
    try {
      state = readState(config.state_file); // a corrupt file stops the run before any request
    } catch (error) {
      return failed(error, null);
    }
    const client = deps.client();
    try {
      await client.authenticate({ signal: deps.signal });
      const system = await client.system({ signal: deps.signal }).catch(() => null);
      if (system) {
        deps.logger.info("Connected to the Act! Web API", { ...systemVersions(system) });
      }
    } catch (error) {
      return failed(error, state);
    }
    let sink: Sink;
    try {
      sink = await openSink(config.destination, {
        logger: deps.logger,
        dryRun: deps.dryRun,
        history: config.history_mode,
        reportRole: config.report_role,
      });
    } catch (error) {
      return failed(new DestinationError(errorMessage(error), { cause: error }), state);
    }
    try {
      return await work({ state, client, sink });
    } finally {
      await sink.close();
    }
  } finally {
    lock.release();
  }
}

/** Format rows as an aligned plain-text table with a header and a rule (last column unpadded). */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const format = (cells: string[]) =>
    cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i])).join("  ");
  return [format(header), format(widths.map((w) => "-".repeat(w))), ...rows.map(format)]
    .join("\n") + "\n";
}

/**
 * The state as it may be written to the state file: every string outside the cursors and the
 * resume points (error messages of `tables` and `reconcile`, which may quote the server) is
 * redacted. Cursors and resume points are data and stay as they are.
 */
export function redactedState(state: State, secrets: Secrets): State {
  const out: State = { ...state };
  for (const [key, value] of Object.entries(state)) {
    if (key === "table_cursors" || key === "table_batch_tracking" || value === undefined) continue;
    out[key] = JSON.parse(
      JSON.stringify(value, (_k, v) => typeof v === "string" ? secrets.redact(v) : v),
    );
  }
  return out;
}

/** The configuration's `exclude_fields` and `hash_fields` as the per-table rules of a run. */
export function fieldRulesOf(config: Config): Partial<Record<TableName, FieldRules>> {
  const out: Partial<Record<TableName, FieldRules>> = {};
  const tables = new Set([
    ...Object.keys(config.exclude_fields),
    ...Object.keys(config.hash_fields),
  ] as TableName[]);
  for (const table of tables) {
    out[table] = {
      exclude: config.exclude_fields[table] ?? [],
      hash: config.hash_fields[table] ?? [],
      key: config.hash_key ?? "",
    };
  }
  return out;
}
