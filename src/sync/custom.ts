/**
 * Finding the customer's Act! custom tables at the start of a run (`/api/metadata/entities`),
 * naming them by the rule of `src/act/custom_tables.ts`, and keeping those names in the state
 * file (`custom_tables`: entity → `{table, first_seen, missing_since}`) so they never change.
 *
 * A custom table that appears is read from the run that first sees it. One that Act! no longer
 * lists is reported (a WARNING every run, and `missing_since` in the state, which `/state`
 * shows) and kept: its rows stay in the destination as they were, nothing is dropped or marked
 * deleted. When the list cannot be read (any answer but 404), the tables found before are read.
 *
 * @module
 */
import { errorMessage, HttpError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { State } from "../state/mod.ts";
import { assignCustomNames, customTableSpec, entityNames } from "../act/custom_tables.ts";
import {
  ALL_CUSTOM,
  type CustomTableName,
  isCustomTableName,
  selectTables,
  type TableName,
  type TableSpec,
} from "../act/tables.ts";
import type { EngineDeps, PageSource } from "./run_types.ts";

/** Where Act! lists the custom tables. */
export const ENTITIES_PATH = "/api/metadata/entities";

/** What the state file keeps of one custom table, keyed by its Act! entity name. */
export interface CustomTableRecord {
  /** The destination table. */
  table: CustomTableName;
  /** When a run first saw it listed, UTC ISO. */
  first_seen: string;
  /** Since when Act! no longer lists it (null or absent: listed by the last run). */
  missing_since?: string | null;
}

/** The custom tables recorded in a state (entity → record). */
export function customRecords(state: State): Record<string, CustomTableRecord> {
  const value = state.custom_tables;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  const out: Record<string, CustomTableRecord> = {};
  for (const [entity, record] of Object.entries(value as Record<string, unknown>)) {
    const r = record as Partial<CustomTableRecord> | null;
    if (r && typeof r.table === "string" && /^custom_[a-z0-9_]+$/.test(r.table)) {
      out[entity] = {
        table: r.table as CustomTableName,
        first_seen: typeof r.first_seen === "string" ? r.first_seen : "",
        missing_since: typeof r.missing_since === "string" ? r.missing_since : null,
      };
    }
  }
  return out;
}

/** The specs of the custom tables recorded in a state that Act! still listed last time. */
export function recordedCustomSpecs(state: State, withMissing = false): TableSpec[] {
  return Object.entries(customRecords(state))
    .filter(([, record]) => withMissing || !record.missing_since)
    .map(([entity, record]) => customTableSpec(entity, record.table))
    .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** The outcome of {@linkcode discoverCustomTables}. */
export interface CustomDiscovery {
  /** The state with `custom_tables` brought up to date. */
  state: State;
  /** The custom tables to read, by table name. */
  specs: TableSpec[];
  /** Tables Act! no longer lists (kept, not read). */
  missing: CustomTableName[];
  /** Requests made (1). */
  requests: number;
}

/**
 * List the custom tables, name new ones, note those that went missing (see the module comment).
 */
export async function discoverCustomTables(
  source: PageSource,
  state: State,
  deps: { logger: Logger; now: () => number; signal?: AbortSignal },
): Promise<CustomDiscovery> {
  const known = customRecords(state);
  const at = new Date(deps.now()).toISOString();
  let listed: string[];
  try {
    const page = await source.list(ENTITIES_PATH, {}, { signal: deps.signal });
    listed = entityNames(page.rows);
  } catch (error) {
    if (deps.signal?.aborted) throw error;
    if (error instanceof HttpError && error.status === 404) {
      listed = [];
    } else {
      deps.logger.warning(
        `Cannot list the Act! custom tables: ${errorMessage(error)}; ` +
          `reading the ones found before`,
      );
      return { state, specs: recordedCustomSpecs(state), missing: [], requests: 1 };
    }
  }
  const names = assignCustomNames(
    listed,
    Object.fromEntries(Object.entries(known).map(([entity, r]) => [entity, r.table])),
  );
  const records: Record<string, CustomTableRecord> = {};
  const missing: CustomTableName[] = [];
  for (const [entity, table] of Object.entries(names)) {
    const before = known[entity];
    if (listed.includes(entity)) {
      if (!before) {
        deps.logger.info(`New Act! custom table "${entity}": copied into ${table}`);
      } else if (before.missing_since) {
        deps.logger.info(`Act! lists the custom table "${entity}" again: reading ${table}`);
      }
      records[entity] = { table, first_seen: before?.first_seen || at, missing_since: null };
    } else {
      const since = before?.missing_since ?? at;
      deps.logger.warning(
        `Act! no longer lists the custom table "${entity}": ${table} is kept as it was ` +
          `(missing since ${since})`,
      );
      records[entity] = { ...before, table, missing_since: since };
      missing.push(table);
    }
  }
  const next: State = { ...state, custom_tables: records };
  return { state: next, specs: recordedCustomSpecs(next), missing, requests: 1 };
}

/**
 * The tables a run syncs, in order, from the `tables` selection: the custom tables are listed
 * first when it includes any (the state saved with their names), and a custom table it names
 * that Act! does not list is a WARNING.
 */
export async function tablesOfRun(
  selection: readonly string[],
  initial: State,
  deps: EngineDeps,
): Promise<{ state: State; names: TableName[]; customs: TableSpec[] }> {
  let state = initial;
  let customs: TableSpec[] = [];
  if (selection.some((t) => t === ALL_CUSTOM || isCustomTableName(t)) && !deps.signal?.aborted) {
    const found = await discoverCustomTables(deps.source, state, deps);
    state = found.state;
    customs = found.specs;
    await deps.saveState(state);
  }
  const names = selectTables(selection, customs.map((spec) => spec.name as CustomTableName));
  for (const name of selection) {
    if (isCustomTableName(name) && !names.includes(name)) {
      deps.logger.warning(`Table ${name} is not among the custom tables Act! lists`);
    }
  }
  return { state, names, customs };
}

/**
 * The custom tables a run found listed for the first time: table → Act! entity, those in the
 * state `after` the run but not `before` it (each appears once: the state keeps it).
 */
export function newCustomTables(before: State, after: State): Record<string, string> {
  const known = customRecords(before);
  const out: Record<string, string> = {};
  for (const [entity, record] of Object.entries(customRecords(after))) {
    if (!known[entity]) out[record.table] = entity;
  }
  return out;
}
