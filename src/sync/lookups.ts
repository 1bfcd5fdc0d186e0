/**
 * The lookup tables (`opportunity_processes`, `opportunity_stages`, `history_types`, `teams` with
 * `team_members`): small lists that decode the records' ids, read in full on every run.
 *
 * - Each is read as a whole list ({@linkcode readDatedList}: no OData is documented for them).
 * - A team whose row does not embed `members` gets them from `/api/teams/{id}/roster`, one
 *   request per team; they become the link table `team_members` (`team_id`, `user_id`).
 * - A row no longer sent is marked deleted once the read completed, unless more than
 *   `max_delete_fraction` of the table's rows would go ({@linkcode markGone}: a WARNING, nothing
 *   marked; `act-sync reconcile --force TABLE` marks them).
 * - An endpoint that answers 404 (a server without it) skips the table with a WARNING; the run
 *   does not fail and the rows already stored stay as they are.
 *
 * @module
 */
import { HttpError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { OdataQuery } from "../act/odata.ts";
import type { Sink } from "../sink/sink.ts";
import type { TableSpec } from "../act/tables.ts";
import type { ListPage } from "./run_types.ts";
import { idOf, type Row } from "./scan.ts";
import {
  type DatedListRead,
  DEFAULT_MAX_DELETE_FRACTION,
  exceedsDeleteGuard,
  readDatedList,
} from "./children.ts";

/** What a lookup read needs from the engine. */
export interface LookupContext extends DatedListRead {
  /** One counted request (`path` defaults to the table's). */
  list: (query: OdataQuery, path?: string) => Promise<ListPage>;
  /** Write rows (flattened with the table's shape) as one page. */
  write: (rows: Row[]) => Promise<void>;
  sink: Sink;
  logger: Logger;
  now: () => number;
  /** The mass-delete guard's share. @default {0.5} */
  maxDeleteFraction?: number;
}

/** Read a lookup table; returns the first response's `Date` header (ms), or null if skipped. */
export async function readLookup(spec: TableSpec, ctx: LookupContext): Promise<number | null> {
  const seen = new Set<string>();
  let date: number | null;
  try {
    date = await readDatedList(ctx, async (rows) => {
      const full = await withMembers(spec, rows, ctx);
      for (const row of full) seen.add(idOf(row));
      await ctx.write(full);
    });
  } catch (error) {
    if (error instanceof HttpError && error.status === 404 && seen.size === 0) {
      ctx.logger.warning(
        `Table ${spec.name}: ${ctx.path} answered 404 (this Act! server does not offer it); ` +
          `skipped`,
      );
      return null;
    }
    throw error;
  }
  await markGone(spec.name, seen, ctx);
  return date ?? ctx.now();
}

/** Rows of a table with embedded members read per row where a row does not embed them. */
async function withMembers(spec: TableSpec, rows: Row[], ctx: LookupContext): Promise<Row[]> {
  const members = spec.lookup?.members;
  if (!members) return rows;
  const out: Row[] = [];
  for (const row of rows) {
    if (Array.isArray(row[members.field]) || row.id === undefined || row.id === null) {
      out.push(row);
      continue;
    }
    const path = members.path.replace("{id}", encodeURIComponent(String(row.id)));
    const roster = (await ctx.list({}, path)).rows.map(memberOf);
    out.push({ ...row, [members.field]: roster });
  }
  return out;
}

/** A roster entry with its user's id in `id` (rosters may name it `userId`). */
function memberOf(entry: Record<string, unknown>): Record<string, unknown> {
  const id = entry.id ?? entry.userId ?? entry.userID ?? entry.memberId ?? null;
  return { ...entry, id };
}

/**
 * Mark deleted the live rows of `table` whose ids were not `seen` by a complete read, unless
 * they are more than `maxDeleteFraction` of the live rows (then a WARNING, nothing marked);
 * `within` keeps the comparison to the ids it accepts, `hint` ends the WARNING. Returns the rows
 * marked.
 */
export async function markGone(
  table: string,
  seen: ReadonlySet<string>,
  ctx: Pick<LookupContext, "sink" | "logger" | "now" | "maxDeleteFraction">,
  options: { within?: (id: string) => boolean; hint?: string } = {},
): Promise<number> {
  const within = options.within ?? (() => true);
  const stored = (await ctx.sink.ids(table)).filter(within);
  const gone = stored.filter((id) => !seen.has(id));
  if (gone.length === 0) return 0;
  const fraction = ctx.maxDeleteFraction ?? DEFAULT_MAX_DELETE_FRACTION;
  if (exceedsDeleteGuard(gone.length, stored.length, fraction)) {
    ctx.logger.warning(
      `Table ${table}: ${gone.length} of ${stored.length} rows are no longer sent; none marked ` +
        `deleted (more than 'max_delete_fraction' ${fraction})` +
        (options.hint ??
          `: check the Act! user's permissions, then run 'act-sync reconcile --force ${table}' ` +
            `if the deletions are real`),
    );
    return 0;
  }
  return await ctx.sink.markDeleted(table, gone, new Date(ctx.now()).toISOString());
}
