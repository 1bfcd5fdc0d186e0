/**
 * One reconcile run (`act-sync reconcile [TABLE...]`, and each `reconcile_schedule` tick of the
 * service): lock, state, client, sink, {@linkcode reconcileTables}, the result recorded in the
 * state file under `reconcile`, summary.
 *
 * @module
 */
import type { ResponseInfo } from "../act/client.ts";
import { collectGarbage } from "../core/runtime.ts";
import { errorMessage } from "../core/errors.ts";
import type { Config } from "../config/mod.ts";
import type { Logger } from "../core/log.ts";
import { readState, type State, writeState } from "../state/mod.ts";
import { escapeControl } from "../core/secrets.ts";
import { fieldRulesOf, formatTable, redactedState, refusedRun, withSession } from "./_session.ts";
import { type ReconcileRecord, withReconciled } from "../state/reconcile.ts";
import { reconcileTables, type TableReconcile } from "../sync/reconcile.ts";
import { type CustomTableName, selectTables, type TableName } from "../act/tables.ts";
import { recordedCustomSpecs } from "../sync/custom.ts";
import { createClient } from "./sync.ts";
import { progressReporter } from "./progress.ts";

/** What a reconcile run needs from outside. */
export interface ReconcileRunDeps {
  logger: Logger;
  /** Host clock in ms. @default {Date.now} */
  now?: () => number;
  /** Stops the run before the next request; nothing is marked for the table being scanned. */
  signal?: AbortSignal;
  /** Injected fetch (tests); default honours `ca_file`/`tls_verify`. */
  fetch?: typeof fetch;
  /** Called with the saved state (the service's /state). */
  onState?: (state: State) => void;
  /** Called for every HTTP attempt (metrics). */
  onResponse?: (info: ResponseInfo) => void;
  /** Called when an HTTP attempt to the Act! Web API is sent. */
  onRequest?: () => void;
  /** Progress lines on a terminal (its stderr); without it, progress goes to the log. */
  progress?: (text: string) => void;
}

/** Options of one reconcile run. */
export interface ReconcileRunOptions {
  /** Tables to reconcile. @default {config.tables} */
  tables?: readonly TableName[];
  /** Mark deletions above `max_delete_fraction` too. @default {false} */
  force?: boolean;
  /** Scan and count only; the destination and the state file stay as they are. @default {false} */
  dryRun?: boolean;
}

/** The outcome of {@linkcode runReconcile}. */
export interface ReconcileRun {
  /** True when every table reconciled. */
  ok: boolean;
  tables: TableReconcile[];
  /** Set when the run could not start (state file, authentication, destination). */
  error?: string;
  /** What was thrown when the run could not start (an AuthError: the login was refused). */
  failure?: unknown;
  startedAt: string;
  durationMs: number;
}

/**
 * Reconcile the tables against Act!. Throws LockError when another run holds the state file's
 * lock; other failures come back in the result (`ok: false`).
 */
export async function runReconcile(
  config: Config,
  options: ReconcileRunOptions,
  deps: ReconcileRunDeps,
): Promise<ReconcileRun> {
  const now = deps.now ?? Date.now;
  const started = now();
  const timing = () => ({
    startedAt: new Date(started).toISOString(),
    durationMs: now() - started,
  });
  return await withSession<ReconcileRun>(
    config,
    {
      logger: deps.logger,
      signal: deps.signal,
      client: () => createClient(config, { ...deps, now }),
      dryRun: options.dryRun ?? false,
    },
    async ({ client, sink, state: read }) => {
      const progress = progressReporter({ tty: deps.progress, logger: deps.logger, now });
      // Custom tables as the last sync found them (those Act! still listed).
      const customs = recordedCustomSpecs(read);
      const names = customs.map((spec) => spec.name as CustomTableName);
      const result = await reconcileTables({
        tables: options.tables ?? selectTables(config.tables, names),
        customs,
        batchSize: config.batch_size,
        maxDeleteFraction: config.max_delete_fraction,
        maxParallelRequests: config.max_parallel_requests,
        force: options.force ?? false,
        endpoints: config.endpoints,
        fields: fieldRulesOf(config),
        dryRun: options.dryRun ?? false,
      }, {
        source: client,
        sink,
        logger: deps.logger,
        now,
        signal: deps.signal,
        onProgress: progress.report,
        afterPage: collectGarbage,
      });
      progress.done();
      const refused = client.refusal ? refusedRun(client.refusal) : {};
      if (options.dryRun) return { ...result, ...refused, ...timing() };
      const at = new Date(now()).toISOString();
      const records: Record<string, ReconcileRecord> = {};
      for (const t of result.tables) {
        records[t.table] = {
          at,
          status: t.status,
          remote: t.remote,
          local: t.local,
          deleted: t.deleted,
          fetched: t.fetched,
          refused_deletes: t.refusedDeletes,
          error: t.error ?? null,
        };
      }
      const state = withReconciled(readState(config.state_file), records);
      writeState(config.state_file, redactedState(state, deps.logger.secrets));
      deps.onState?.(state);
      return { ...result, ...refused, ...timing() };
    },
    (error) => ({
      ok: false,
      tables: [],
      error: errorMessage(error),
      failure: error,
      ...timing(),
    }),
  );
}

/** The summary table printed at the end of a reconcile run. */
export function formatReconcileSummary(run: ReconcileRun): string {
  const header = ["table", "in Act!", "local", "fetched", "marked deleted", "status"];
  const lines = run.tables.map((t) => [
    t.table,
    String(t.remote),
    String(t.local),
    String(t.fetched),
    String(t.deleted),
    t.status === "ok" ? "ok" : `${t.status}: ${escapeControl(t.error ?? "")}`,
  ]);
  const out = [formatTable(header, lines)];
  if (run.error) out.push(`Reconcile failed: ${escapeControl(run.error)}\n`);
  return out.join("");
}
