/**
 * Comparing a table's complete id list from Act! with the destination's (reconcile,
 * `src/sync/reconcile.ts`): the destination's ids are read a part at a time
 * (`Sink.idsAfter`, {@linkcode LOCAL_ID_PART} per call) and either marked in Act!'s
 * {@linkcode IdSet} as they come ({@linkcode compareStreamed}: one id list held, not two) or
 * held in a set of their own when the scan needed them while it read ({@linkcode compareHeld}).
 *
 * @module
 */
import type { Sink } from "../sink/sink.ts";
import { MAX_REQUESTS } from "./scan.ts";
import { type IdList, IdSet, idsNotIn } from "./id_set.ts";

/** Ids read from the destination per call of `Sink.idsAfter`. */
export const LOCAL_ID_PART = 50_000;

/** What comparing the two id lists found. */
export interface Compared {
  /** Ids Act! holds that the destination lacks (rejected records left out). */
  missing: string[];
  /** Ids of live destination rows Act! no longer holds. */
  gone: string[];
  /** Live rows in the destination. */
  local: number;
}

/** Compare the id lists, both held. */
export function compareHeld(
  local: IdSet,
  remote: IdList,
  rejected: (id: string) => boolean,
): Compared {
  return {
    missing: idsNotIn(remote, local, rejected),
    gone: local.notIn(remote),
    local: local.size,
  };
}

/**
 * Compare Act!'s ids with the destination's read a part at a time, never all held: each
 * destination id is marked in `remote` (gone when it is not there); the ids left unmarked are
 * missing.
 */
export async function compareStreamed(
  sink: Sink,
  table: string,
  remote: IdSet,
  part: number,
  rejected: (id: string) => boolean,
  afterPage?: () => void,
): Promise<Compared> {
  const gone: string[] = [];
  let local = 0;
  await eachLocalPart(sink, table, part, afterPage, (ids) => {
    local += ids.length;
    for (const id of ids) if (!remote.mark(id)) gone.push(id);
  });
  return { missing: remote.unmarked(rejected), gone, local };
}

/** The ids of the table's live rows in the destination, as a set. */
export async function localIds(
  sink: Sink,
  table: string,
  part: number,
  afterPage?: () => void,
): Promise<IdSet> {
  const local = new IdSet(await sink.count(table));
  await eachLocalPart(sink, table, part, afterPage, (ids) => {
    for (const id of ids) local.add(id);
  });
  return local;
}

/**
 * The ids of the table's live rows in the destination, `part` at a time (`Sink.idsAfter`; a
 * sink without it gives them all at once), each id once, `afterPage` after each part.
 */
async function eachLocalPart(
  sink: Sink,
  table: string,
  part: number,
  afterPage: (() => void) | undefined,
  onPart: (ids: readonly string[]) => void,
): Promise<void> {
  if (!sink.idsAfter) {
    onPart(await sink.ids(table));
    afterPage?.(); // the rows the ids came in are garbage now
    return;
  }
  let after: string | null = null;
  for (let call = 0; call < MAX_REQUESTS; call++) {
    const ids: string[] = await sink.idsAfter(table, after, part);
    onPart(ids);
    afterPage?.();
    if (ids.length < part) return;
    if (ids.at(-1) === after) break;
    after = ids.at(-1)!;
  }
  throw new RangeError(`Reading the ids of "${table}" is not advancing: check the destination`);
}
