/**
 * One simulated table: generated base rows plus an overlay of mutations (edits, inserts,
 * deletes), and the query engine over both.
 *
 * Queries ordered by the timeline stamp (or in storage order) walk the base rows in index order,
 * merging the overlay, and only build the rows of the tie groups that touch the requested page;
 * a date range on the stamp is a binary search. Other orders collect and sort every match.
 *
 * @module
 */
import type { TableName } from "../act/tables.ts";
import type { Dataset, Row } from "./_data.ts";
import { compareValues, type Expr, getPath, matches, type OrderKey, propsOf } from "./_odata.ts";
import { actDate, Random } from "./_random.ts";
import { utcMs } from "../core/time.ts";

/** A parsed query ready to run. */
export interface Plan {
  filter: Expr | null;
  orderBy: OrderKey[];
  skip: number;
  take: number;
  /** Seed for shuffling rows with equal sort keys, or null for a stable order. */
  shuffleSeed: number | null;
}

type Ref = number | Row;

const KEY_FIELDS = new Set(["id", "created", "edited", "createDate", "editDate"]);

/** The rows of one table: base rows from the dataset plus mutations. */
export class TableStore {
  readonly table: TableName;
  readonly data: Dataset;
  /** Base index → current version of an edited base row. */
  readonly changed = new Map<number, Row>();
  /** Base indices that are deleted or replaced by `changed`. */
  readonly removed = new Set<number>();
  /** Inserted rows by id, in insertion order. */
  readonly extra = new Map<string, Row>();
  #deleted = 0;
  #inserted = 0;
  /** Shapes a stored row as served (e.g. products with created/edited). */
  view: (row: Row) => Row = (row) => row;

  constructor(table: TableName, data: Dataset) {
    this.table = table;
    this.data = data;
  }

  /** Number of live rows. */
  count(): number {
    return this.data.counts[this.table] - this.#deleted + this.extra.size;
  }

  /** The stored row with this id, or undefined (unshaped). */
  get(id: string): Row | undefined {
    const hit = this.extra.get(id);
    if (hit) return hit;
    const i = this.data.indexOf(this.table, id);
    if (i < 0) return undefined;
    if (this.removed.has(i)) return this.changed.get(i);
    return this.data.record(this.table, i);
  }

  /** Replace the row with this id (which must exist); returns false if it does not. */
  put(id: string, row: Row): boolean {
    if (this.extra.has(id)) {
      this.extra.set(id, row);
      return true;
    }
    const i = this.data.indexOf(this.table, id);
    if (i < 0 || (this.removed.has(i) && !this.changed.has(i))) return false;
    this.changed.set(i, row);
    this.removed.add(i);
    return true;
  }

  /** Add a new row. */
  add(row: Row): void {
    this.extra.set(String(row.id), row);
  }

  /** Delete a row; false if it did not exist. */
  delete(id: string): boolean {
    if (this.extra.delete(id)) return true;
    const i = this.data.indexOf(this.table, id);
    if (i < 0 || (this.removed.has(i) && !this.changed.has(i))) return false;
    this.changed.delete(i);
    this.removed.add(i);
    this.#deleted++;
    return true;
  }

  /** A sequence number for the next insert. */
  nextInsert(): number {
    return ++this.#inserted;
  }

  /** Every live row in storage order (builds them all: fine for tests, slow for millions). */
  all(): Row[] {
    return this.query({ filter: null, orderBy: [], skip: 0, take: Infinity, shuffleSeed: null });
  }

  /** Stamp keys a query may range over (lower case), e.g. `edited`. */
  stampNames(sample: Row): Set<string> {
    const key = this.data.stampKey(this.table);
    const names = new Set<string>();
    if (!key) return names;
    names.add(key.toLowerCase());
    // Products served with `edited` (switch): it always equals editDate.
    if (key === "editDate" && "edited" in sample) names.add("edited");
    return names;
  }

  /** Run a query; returns the rows of the page as served. */
  query(plan: Plan): Row[] {
    const data = this.data;
    const n = data.counts[this.table];
    const stampKey = data.stampKey(this.table);
    const sample = this.view(n > 0 ? data.record(this.table, 0) : {});
    const stampNames = this.stampNames(sample);
    const { bounds, residual } = splitBounds(plan.filter, stampNames);
    const stamps = stampKey ? data.stamps(this.table) : null;
    let a = 0;
    let b = n;
    if (bounds && stamps) {
      a = lowerBound(stamps, bounds.lo, bounds.loIncl);
      b = upperBound(stamps, bounds.hi, bounds.hiIncl);
      if (b < a) b = a;
    }
    const needed = propsOf(residual);
    for (const k of plan.orderBy) needed.push(k.path);
    const keyOnly = needed.every((p) => p.length === 1 && KEY_FIELDS.has(p[0]));
    const idOnly = keyOnly && needed.every((p) => p[0] === "id");
    const rowOf = (i: number): Row =>
      idOnly
        ? { id: this.table === "activity_types" ? i + 1 : data.idOf(this.table, i) }
        : this.view(keyOnly ? data.key(this.table, i) : data.record(this.table, i));
    const removed = this.removed;
    const accept = residual
      ? (i: number): boolean => !removed.has(i) && matches(residual, rowOf(i))
      : removed.size
      ? (i: number): boolean => !removed.has(i)
      : (): boolean => true;
    const overlay: Row[] = [];
    for (const row of this.changed.values()) {
      const v = this.view(row);
      if (!plan.filter || matches(plan.filter, v)) overlay.push(row);
    }
    for (const row of this.extra.values()) {
      const v = this.view(row);
      if (!plan.filter || matches(plan.filter, v)) overlay.push(row);
    }
    const rng = plan.shuffleSeed === null ? null : new Random(plan.shuffleSeed);
    const valueOf = (ref: Ref, path: string[]): unknown =>
      getPath(typeof ref === "number" ? rowOf(ref) : this.view(ref), path);
    const first = plan.orderBy[0];
    const byStamp = first && first.path.length === 1 && stamps &&
      stampNames.has(first.path[0].toLowerCase());
    let refs: Ref[];
    if (plan.orderBy.length === 0 || byStamp) {
      const desc = byStamp ? first.desc : false;
      const rest = plan.orderBy.slice(1);
      const keyAt = byStamp ? (i: number): number => stamps![i] : (i: number): number => i;
      const index = new Map<Row, number>();
      if (!byStamp) {
        for (const [i, row] of this.changed) index.set(row, i);
        let seq = 0;
        for (const row of this.extra.values()) index.set(row, n + seq++);
      }
      const ov = overlay.map((row) => {
        const k = byStamp ? utcMs(String(row[stampKey!])) : index.get(row)!;
        return { key: Number.isNaN(k) ? -Infinity : k, row };
      });
      ov.sort((x, y) => desc ? y.key - x.key : x.key - y.key);
      const orderGroup = (group: Ref[]): Ref[] => {
        if (rng) rng.shuffle(group);
        if (rest.length) sortRefs(group, rest, valueOf);
        return group;
      };
      refs = walk(a, b, keyAt, ov, desc, accept, plan.skip, plan.take, orderGroup);
    } else {
      const all: Ref[] = [];
      for (let i = a; i < b; i++) if (accept(i)) all.push(i);
      all.push(...overlay);
      if (rng) rng.shuffle(all);
      const decorated = all.map((ref) => ({
        ref,
        vals: plan.orderBy.map((k) => valueOf(ref, k.path)),
      }));
      decorated.sort((x, y) => {
        for (let k = 0; k < plan.orderBy.length; k++) {
          const c = compareValues(x.vals[k], y.vals[k]) || 0;
          if (c) return plan.orderBy[k].desc ? -c : c;
        }
        return 0;
      });
      refs = decorated.slice(plan.skip, plan.skip + plan.take).map((d) => d.ref);
    }
    return refs.map((ref) =>
      this.view(typeof ref === "number" ? data.record(this.table, ref) : ref)
    );
  }

  /** Stamp a stored row's timeline field(s) with `ms`. */
  stamp(row: Row, ms: number): Row {
    const key = this.data.stampKey(this.table);
    if (key) row[key] = actDate(ms);
    return row;
  }
}

function sortRefs(
  refs: Ref[],
  keys: OrderKey[],
  valueOf: (ref: Ref, path: string[]) => unknown,
): void {
  const decorated = refs.map((ref) => ({ ref, vals: keys.map((k) => valueOf(ref, k.path)) }));
  decorated.sort((x, y) => {
    for (let k = 0; k < keys.length; k++) {
      const c = compareValues(x.vals[k], y.vals[k]) || 0;
      if (c) return keys[k].desc ? -c : c;
    }
    return 0;
  });
  for (let i = 0; i < refs.length; i++) refs[i] = decorated[i].ref;
}

/** Walk base rows [a, b) and the overlay in key order, by groups of equal keys. */
function walk(
  a: number,
  b: number,
  keyAt: (i: number) => number,
  ov: { key: number; row: Row }[],
  desc: boolean,
  accept: (i: number) => boolean,
  skip: number,
  take: number,
  orderGroup: (group: Ref[]) => Ref[],
): Ref[] {
  const out: Ref[] = [];
  const end = skip + take;
  const step = desc ? -1 : 1;
  const inRange = desc ? (x: number): boolean => x >= a : (x: number): boolean => x < b;
  let pos = 0;
  let i = desc ? b - 1 : a;
  let k = 0;
  while (pos < end) {
    const hasBase = inRange(i);
    const hasOverlay = k < ov.length;
    if (!hasBase && !hasOverlay) break;
    let s: number;
    if (hasBase && hasOverlay) {
      const kb = keyAt(i);
      const ko = ov[k].key;
      s = desc ? Math.max(kb, ko) : Math.min(kb, ko);
    } else {
      s = hasBase ? keyAt(i) : ov[k].key;
    }
    let j = i;
    while (inRange(j) && keyAt(j) === s) j += step;
    let m = k;
    while (m < ov.length && ov[m].key === s) m++;
    let count = m - k;
    for (let x = i; x !== j; x += step) if (accept(x)) count++;
    if (pos + count > skip) {
      const group: Ref[] = [];
      for (let x = i; x !== j; x += step) if (accept(x)) group.push(x);
      for (let y = k; y < m; y++) group.push(ov[y].row);
      const ordered = group.length > 1 ? orderGroup(group) : group;
      const to = Math.min(ordered.length, end - pos);
      for (let z = Math.max(0, skip - pos); z < to; z++) out.push(ordered[z]);
    }
    pos += count;
    i = j;
    k = m;
  }
  return out;
}

interface Bounds {
  lo: number;
  loIncl: boolean;
  hi: number;
  hiIncl: boolean;
}

/** Take `stamp op date` conjuncts at the top level of a filter out as a range. */
function splitBounds(
  filter: Expr | null,
  stampNames: Set<string>,
): { bounds: Bounds | null; residual: Expr | null } {
  if (!filter || stampNames.size === 0) return { bounds: null, residual: filter };
  const conjuncts: Expr[] = [];
  const flatten = (e: Expr): void => {
    if (e.t === "and") {
      flatten(e.l);
      flatten(e.r);
    } else conjuncts.push(e);
  };
  flatten(filter);
  const bounds: Bounds = { lo: -Infinity, loIncl: true, hi: Infinity, hiIncl: true };
  let found = false;
  const rest: Expr[] = [];
  for (const c of conjuncts) {
    if (c.t === "cmp" && c.op !== "ne") {
      let op = c.op;
      let prop = c.l;
      let lit = c.r;
      if (c.l.t === "lit") {
        prop = c.r;
        lit = c.l;
        op = ({ gt: "lt", ge: "le", lt: "gt", le: "ge", eq: "eq" } as const)[op];
      }
      if (
        prop.t === "prop" && prop.path.length === 1 && stampNames.has(prop.path[0].toLowerCase()) &&
        lit.t === "lit" && lit.date !== undefined
      ) {
        const d = lit.date;
        found = true;
        if (op === "gt" || op === "ge" || op === "eq") {
          const incl = op !== "gt";
          if (d > bounds.lo || (d === bounds.lo && !incl)) {
            Object.assign(bounds, { lo: d, loIncl: incl });
          }
        }
        if (op === "lt" || op === "le" || op === "eq") {
          const incl = op !== "lt";
          if (d < bounds.hi || (d === bounds.hi && !incl)) {
            Object.assign(bounds, { hi: d, hiIncl: incl });
          }
        }
        continue;
      }
    }
    rest.push(c);
  }
  if (!found) return { bounds: null, residual: filter };
  const residual = rest.length ? rest.reduce((l, r) => ({ t: "and", l, r })) : null;
  return { bounds, residual };
}

/** First index whose stamp is >= lo (or > lo). */
function lowerBound(stamps: Float64Array, lo: number, incl: boolean): number {
  let l = 0;
  let h = stamps.length;
  while (l < h) {
    const m = (l + h) >>> 1;
    if (incl ? stamps[m] < lo : stamps[m] <= lo) l = m + 1;
    else h = m;
  }
  return l;
}

/** First index whose stamp is beyond hi. */
function upperBound(stamps: Float64Array, hi: number, incl: boolean): number {
  let l = 0;
  let h = stamps.length;
  while (l < h) {
    const m = (l + h) >>> 1;
    if (incl ? stamps[m] <= hi : stamps[m] < hi) l = m + 1;
    else h = m;
  }
  return l;
}
