/**
 * `act-sync check`: authenticate, log the server's version once, probe every configured table's
 * endpoint with `$top=1` and print one aligned line per table.
 *
 * @module
 */
import { ActClient, AUTH_FAILED_MESSAGE, systemVersions } from "../act/client.ts";
import type { Config } from "../config/mod.ts";
import { createClient } from "./sync.ts";
import { AuthError, errorMessage, HttpError } from "../core/errors.ts";
import { escapeControl } from "../core/secrets.ts";
import type { Logger } from "../core/log.ts";
import {
  ALL_CUSTOM,
  type CustomTableName,
  isCustomTableName,
  selectTables,
  specOf,
  type TableName,
  TABLES,
  type TableSpec,
} from "../act/tables.ts";
import { discoverCustomTables } from "../sync/custom.ts";
import { emptyState, readState } from "../state/mod.ts";
import { openSink } from "../sink/mod.ts";

/** What {@linkcode runCheck} needs from outside. */
export interface CheckDeps {
  /** A ready client; built from the config when absent. */
  client?: ActClient;
  /** Where the table goes. */
  stdout: (text: string) => void;
  /** Logs (version info, retries). */
  logger: Logger;
  /** The fetch for a client built here. @default {createFetch(config TLS options)} */
  fetch?: typeof fetch;
}

/** The outcome of probing one table. */
interface Probe {
  table: TableName;
  path: string;
  ok: boolean;
  result: string;
}

/** An error's message for one printed line: control characters escaped (it may quote the server). */
function reason(error: unknown): string {
  return escapeControl(errorMessage(error));
}

/** Paths to try for a table: the configured override alone, else the default and its fallbacks. */
function pathsFor(config: Config, spec: TableSpec): string[] {
  const override = spec.custom ? undefined : config.endpoints[spec.name];
  if (override) return [override];
  return [spec.path, ...spec.fallbackPaths];
}

async function probe(client: ActClient, config: Config, spec: TableSpec): Promise<Probe> {
  const table = spec.name;
  const paths = pathsFor(config, spec);
  const missing: string[] = [];
  for (const [i, template] of paths.entries()) {
    // Metadata tables are read per entity type: probe the contacts' one.
    let path = template.replace("{type}", "contact");
    try {
      const parent = spec.perParent;
      if (parent) {
        // Rows read per parent: probe those of the first parent record.
        const first = await client.list(
          config.endpoints[parent.table] ?? TABLES[parent.table].path,
          {
            top: 1,
          },
        );
        const id = first.rows[0]?.id;
        if (id === undefined) {
          return { table, path, ok: true, result: `OK (no ${parent.table} to probe)` };
        }
        path = template.replace("{id}", encodeURIComponent(String(id)));
      }
      const page = await client.list(path, { top: 1 });
      const note = missing.length ? `; ${missing.join(", ")} answered 404` : "";
      return {
        table,
        path,
        ok: true,
        result: `OK (${page.envelope === "value" ? '{"value": [...]}' : "bare array"}, ${
          page.rows.length === 1 ? "1 row" : `${page.rows.length} rows`
        }${note})`,
      };
    } catch (error) {
      if (error instanceof HttpError && error.status === 404 && i < paths.length - 1) {
        missing.push(path);
        continue;
      }
      if (error instanceof HttpError && error.status === 404 && spec.lookup) {
        return { table, path, ok: true, result: "not offered by this server (404): sync skips it" };
      }
      return { table, path, ok: false, result: `FAILED: ${reason(error)}` };
    }
  }
  // Unreachable: the loop returns on its last path.
  return { table, path: paths[paths.length - 1], ok: false, result: "FAILED: no path to try" };
}

/** The outcome of {@linkcode runCheck}. */
export interface CheckResult {
  /** True when login works and every configured table answered `$top=1` with a usable body. */
  ok: boolean;
  /** Act! refused the login (username, password or database name): the CLI exits 4. */
  refused: boolean;
  /** Why the login failed, when it did. */
  loginError?: string;
  /** Why the destination could not be opened or written, when it could not. */
  destinationError?: string;
  /** What the failed login threw. */
  failure?: unknown;
}

/** The table `check` writes its one row to, to prove the destination takes writes. */
export const CHECK_TABLE = "_act_check";

/**
 * Open the destination and write one row to {@linkcode CHECK_TABLE} (`id` "check", the time of the
 * check): the login, the rights to create a table and write, and the disk, as a run needs them.
 */
export async function checkDestination(
  config: Config,
  logger: Logger,
  now: number = Date.now(),
): Promise<string | undefined> {
  let sink;
  try {
    sink = await openSink(config.destination, { logger });
  } catch (error) {
    return reason(error);
  }
  try {
    const at = new Date(now).toISOString();
    await sink.write(CHECK_TABLE, {
      rows: [{ id: "check", checked_at: at }],
      types: new Map([["checked_at", "datetime"]]),
    }, at);
    return undefined;
  } catch (error) {
    return reason(error);
  } finally {
    await sink.close().catch(() => {});
  }
}

/**
 * Run `check`. A failed login prints the "Failed to authenticate…" message and probes nothing.
 */
export async function runCheck(config: Config, deps: CheckDeps): Promise<CheckResult> {
  const { logger, stdout } = deps;
  const client = deps.client ?? createClient(config, { logger, fetch: deps.fetch });
  try {
    const system = await client.system();
    logger.info("Act! Web API", { ...systemVersions(system) });
  } catch (error) {
    logger.warning(`Cannot read /api/system (continuing): ${reason(error)}`);
  }
  try {
    await client.authenticate();
  } catch (error) {
    const message = reason(error);
    const loginError = message.startsWith(AUTH_FAILED_MESSAGE)
      ? message
      : `Failed to authenticate: ${message}`;
    stdout(`${loginError}\n`);
    return { ok: false, refused: error instanceof AuthError, loginError, failure: error };
  }
  const probes: Probe[] = [];
  let customs: TableSpec[] = [];
  let missing: TableName[] = [];
  if (config.tables.some((t) => t === ALL_CUSTOM || isCustomTableName(t))) {
    // Named as the next run would name them: from the state file's names, when it has them.
    let state = emptyState();
    try {
      state = readState(config.state_file);
    } catch { /* a state file that cannot be read: names as a first run gives them */ }
    const found = await discoverCustomTables(client, state, { logger, now: Date.now });
    customs = found.specs;
    missing = found.missing;
  }
  const names = selectTables(config.tables, customs.map((c) => c.name as CustomTableName));
  for (const table of names) {
    probes.push(await probe(client, config, specOf(table, customs)!));
    if (client.refusal) break; // Act! refused the account: no table can pass
  }
  for (const table of selectTables(config.tables, missing as CustomTableName[])) {
    if (!missing.includes(table)) continue;
    probes.push({ table, path: "", ok: true, result: "kept: no longer listed by Act!" });
  }
  const nameWidth = Math.max(5, ...probes.map((p) => p.table.length));
  const pathWidth = Math.max(4, ...probes.map((p) => p.path.length));
  const lines = probes.map((p) =>
    `${p.table.padEnd(nameWidth)}  ${p.path.padEnd(pathWidth)}  ${p.result}`
  );
  stdout(`${lines.join("\n")}\n`);
  const failed = probes.filter((p) => !p.ok).length;
  stdout(
    failed === 0
      ? `All ${probes.length} tables OK\n`
      : `${failed} of ${probes.length} tables failed\n`,
  );
  if (client.refusal) {
    const message = reason(client.refusal);
    return { ok: false, refused: true, loginError: message, failure: client.refusal };
  }
  const destinationError = await checkDestination(config, logger);
  stdout(
    destinationError === undefined
      ? `Destination OK: opened and wrote one row to ${CHECK_TABLE}\n`
      : `Destination failed: ${destinationError}\n`,
  );
  return {
    ok: failed === 0 && destinationError === undefined,
    refused: false,
    ...(destinationError === undefined ? {} : { destinationError }),
  };
}
