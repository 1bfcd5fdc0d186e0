/**
 * Private to the engine: deletions found by a complete read of a whole list (notes on a server
 * that rejects `$filter` on them). Such a read holds every row Act! has, so a stored row it did
 * not bring was deleted in Act!; it is marked deleted unless that would mark more than
 * `max_delete_fraction` of the table's rows, which looks exactly like a wrong database name or
 * lost permissions (then nothing is marked, and a WARNING says so).
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import type { Sink } from "../sink/sink.ts";

/** Mark deleted the live rows of `table` whose id is not in `sent`; returns how many. */
export async function markNotSent(
  deps: { sink: Sink; logger: Logger },
  table: string,
  sent: ReadonlySet<string>,
  options: { maxFraction: number; at: string },
): Promise<number> {
  const stored = await deps.sink.ids(table);
  const gone = stored.filter((id) => !sent.has(id));
  if (gone.length === 0) return 0;
  if (gone.length > options.maxFraction * stored.length) {
    deps.logger.warning(
      `Table ${table}: ${gone.length} of ${stored.length} stored rows are no longer sent; ` +
        `none marked deleted, as that is more than max_delete_fraction ` +
        `(${options.maxFraction}): check the Act! user's rights, then run ` +
        `'act-sync reconcile ${table} --force'`,
    );
    return 0;
  }
  const marked = await deps.sink.markDeleted(table, gone, options.at);
  deps.logger.info(`Table ${table}: ${marked} rows no longer sent, marked deleted`);
  return marked;
}
