/**
 * Private to scripts/chaos.ts: poison records (the simulator's `poison` switch) planted before a
 * trial's first run, some healed before its clean run, and the check that each is accounted for:
 * a record that cannot be stored must be in `_act_rejected` (a record there counts as accounted
 * for, not lost), a healed one or one that can be stored must be in its table as usual.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { PoisonKind, RunningSimulator } from "../src/simulator/mod.ts";
import type { BuiltinTableName as TableName } from "../src/act/tables.ts";

type Sim = RunningSimulator["sim"];

/** The records poisoned in a trial: `table\tid` → kind. */
export type Planted = Map<string, PoisonKind>;

const UNSTORABLE: readonly PoisonKind[] = ["deep", "deep-array", "bad-edited", "not-json"];
const STORABLE: readonly PoisonKind[] = ["surrogate", "nul", "big-numbers"];
/** Tables with an `edited` cursor field (`bad-edited` makes their records unstorable). */
const EDITED: readonly TableName[] = ["contacts", "companies", "opportunities", "activities"];
const OTHERS: readonly TableName[] = ["products", "history", "opportunity_products"];

/** Plant 1 to 3 poison records (with probability `p`); their words go to `faults`. */
export function plant(sim: Sim, rnd: () => number, faults: string[], p = 0.35): Planted {
  const planted: Planted = new Map();
  if (rnd() >= p) return planted;
  const n = 1 + Math.floor(rnd() * 3);
  for (let i = 0; i < n; i++) {
    const edited = rnd() < 0.6;
    const tables = edited ? EDITED : OTHERS;
    const table = tables[Math.floor(rnd() * tables.length)];
    const rows = sim.rows(table);
    if (rows.length === 0) continue;
    const id = String(rows[Math.floor(rnd() * rows.length)].id);
    const kinds = rnd() < 0.7
      ? (edited ? UNSTORABLE : UNSTORABLE.filter((k) => k !== "bad-edited"))
      : STORABLE;
    const kind = kinds[Math.floor(rnd() * kinds.length)];
    sim.switches.poison[id] = kind;
    planted.set(`${table}\t${id}`, kind);
    faults.push(`poison ${kind} ${table}`);
  }
  return planted;
}

/** Heal one of the planted records (with probability `p`), before the clean run. */
export function healOne(sim: Sim, planted: Planted, rnd: () => number, faults: string[], p = 0.5) {
  const keys = [...planted.keys()];
  if (keys.length === 0 || rnd() >= p) return;
  const key = keys[Math.floor(rnd() * keys.length)];
  const [table, id] = key.split("\t");
  sim.heal(id);
  planted.delete(key);
  faults.push(`healed ${table}`);
}

/** The records that cannot be stored and are still poisoned: `table\tid`. */
export function unstorable(planted: Planted): Set<string> {
  return new Set([...planted].filter(([, kind]) => UNSTORABLE.includes(kind)).map(([k]) => k));
}

/** The keys `table\tid` of `_act_rejected` (empty when it does not exist). */
export function rejectedKeys(conn: DatabaseSync): Set<string> {
  const exists = conn.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?")
    .get("_act_rejected");
  if (!exists) return new Set();
  const rows = conn.prepare("SELECT table_name AS t, id FROM _act_rejected").all() as {
    t: string;
    id: string | null;
  }[];
  return new Set(rows.map((r) => `${r.t}\t${r.id}`));
}

/**
 * Whether the record `table\tid` can only be accounted for in `_act_rejected` (it cannot be
 * stored); when it is not there, it is counted lost.
 */
export function rejectedOnly(
  key: string,
  unstorable: ReadonlySet<string>,
  rejected: ReadonlySet<string>,
  result: { lost: number; problems: string[] },
): boolean {
  if (!unstorable.has(key)) return false;
  if (!rejected.has(key)) {
    result.lost++;
    result.problems.push(`${key.replace("\t", " ")} lost: neither stored nor in _act_rejected`);
  }
  return true;
}

/** A table's rows; an integer beyond 2^53 (a number kept exactly) as its digits. */
export function readRows(conn: DatabaseSync, table: string): Record<string, unknown>[] {
  return exactRows(conn, `SELECT * FROM "${table}"`);
}

/** The rows of a query; an integer beyond 2^53 (a number kept exactly) as its digits. */
export function exactRows(conn: DatabaseSync, sql: string): Record<string, unknown>[] {
  const statement = conn.prepare(sql);
  statement.setReadBigInts(true);
  const rows = statement.all() as Record<string, unknown>[];
  for (const row of rows) {
    for (const key in row) {
      const value = row[key];
      if (typeof value !== "bigint") continue;
      row[key] = Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
    }
  }
  return rows;
}
