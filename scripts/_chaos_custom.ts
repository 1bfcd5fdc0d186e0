/**
 * The chaos suite's part for notes and the customer's custom tables: their open points drawn by
 * chance (notes without OData, a custom table added or removed between runs), their rows edited,
 * inserted and deleted while a run pages, and the comparison of every custom table and its link
 * tables with the simulator. Notes are a built-in table: the suite's own comparison covers them
 * and their link tables.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { EXTRA_CUSTOM_ENTITY, type RunningSimulator } from "../src/simulator/mod.ts";
import { flattenRecord } from "../src/sync/flatten.ts";
import { shapeOf } from "../src/sync/relations.ts";
import { customBaseName, customTableSpec } from "../src/act/custom_tables.ts";
import { type ColumnType, plainName } from "../src/sink/sink.ts";
import type { BuiltinTableName } from "../src/act/tables.ts";

type Sim = RunningSimulator["sim"];

/** What {@linkcode CustomChaos.compare} adds to a trial. */
export interface Counts {
  lost: number;
  stale: number;
  extra: number;
  problems: string[];
}

/** The {@linkcode CustomChaos} of each trial's simulator. */
const TRIALS = new WeakMap<Sim, CustomChaos>();

/**
 * Give the trial of `sim` its notes and custom tables part, returning `plan`. It draws from its
 * own generator `rnd`, never from the trial's, so the rest of every trial (its faults, poison
 * records and mutations of the other tables) is the one it would be without this part.
 */
export function withCustomChaos<P extends { faults: string[] }>(
  sim: Sim,
  rnd: () => number,
  plan: P,
): P {
  TRIALS.set(sim, new CustomChaos(sim, rnd, plan.faults));
  return plan;
}

/** The notes and custom tables part of the trial of `sim`, if it has one. */
export function customChaosOf(sim: Sim): CustomChaos | undefined {
  return TRIALS.get(sim);
}

/** One trial's notes and custom tables (see the module comment). */
export class CustomChaos {
  #sim: Sim;
  #rnd: () => number;
  /** Custom rows deleted in Act!, by entity name. */
  #removed = new Map<string, Set<string>>();
  /** Entities listed at some point of the trial. */
  #seen: Set<string>;

  /**
   * Draws this trial's switches, naming each in `faults`: notes without OData, a custom table
   * that appears and one that disappears at a data request of the trial (the run reading it
   * then fails on a 404 and the next one finds it missing).
   */
  constructor(sim: Sim, rnd: () => number, faults: string[]) {
    this.#sim = sim;
    this.#rnd = rnd;
    const sw = sim.switches;
    this.#seen = new Set(sw.customEntities);
    if (rnd() < 0.2) (sw.notesOdata = false, faults.push("notes without OData"));
    const at = (): number => 1 + Math.floor(rnd() * 80);
    if (rnd() < 0.3) {
      const n = at();
      faults.push(`custom table added @${n}`);
      this.#seen.add(EXTRA_CUSTOM_ENTITY);
      this.#at(n, () => sw.customEntities = [...sw.customEntities, EXTRA_CUSTOM_ENTITY]);
    }
    if (rnd() < 0.3) {
      const n = at();
      const drop = sw.customEntities[Math.floor(rnd() * 2)];
      faults.push(`custom table "${drop}" removed @${n}`);
      this.#at(n, () => sw.customEntities = sw.customEntities.filter((e) => e !== drop));
    }
  }

  #at(n: number, change: () => void): void {
    this.#sim.onRequest((info) => {
      if (info.n === n) change();
    });
  }

  /** Whether a mutation of the trial goes to notes or a custom table (two in five do). */
  takesTurn(): boolean {
    return this.#rnd() < 0.4;
  }

  /**
   * Edit, insert or delete a note or a row of a listed custom table; a deleted note is noted in
   * `removed` (the suite's own list, whose comparison covers notes).
   */
  mutate(removed: Map<BuiltinTableName, Set<string>>): void {
    const sim = this.#sim;
    const r = this.#rnd();
    const entities = sim.switches.customEntities;
    const entity = this.#rnd() < 0.4 ? null : entities[Math.floor(this.#rnd() * entities.length)];
    if (entity === undefined) return;
    const rows = entity === null ? sim.rows("notes") : sim.custom.rows(entity);
    if (rows.length === 0) return;
    const id = String(rows[Math.floor(this.#rnd() * rows.length)].id);
    const lists = removed as Map<string, Set<string>>;
    const gone = entity === null ? lists : this.#removed;
    const key = entity ?? "notes";
    const now = Math.floor(sim.stampClock() / 1000) * 1000;
    if (r < 0.5) {
      const contact = sim.rows("contacts")[0];
      const patch = { contacts: [{ id: contact.id, displayName: contact.fullName }] };
      if (entity === null) sim.edit("notes", id, { ...patch, noteText: `chaos ${r}` });
      else sim.custom.edit(entity, id, now, patch);
    } else if (r < 0.8) {
      if (entity === null) sim.insert("notes");
      else sim.custom.insert(entity, now);
    } else if ((gone.get(key)?.size ?? 0) < rows.length / 8) {
      if (entity === null) sim.remove("notes", id);
      else sim.custom.remove(entity, id);
      if (!gone.has(key)) gone.set(key, new Set());
      gone.get(key)!.add(id);
    }
  }

  /**
   * Compare each listed custom table and its link tables with the simulator (`exact`: after
   * reconcile, deleted rows must be marked). A custom table no longer listed must be kept: none
   * of its rows marked deleted but those deleted in Act! while it was listed.
   */
  compare(db: DatabaseSync, counts: Counts, exact: boolean): void {
    const listed = this.#sim.switches.customEntities;
    for (const entity of this.#seen) {
      // The names the rule gives these entities (no two of them collide).
      const table = customBaseName(entity);
      if (!listed.includes(entity)) {
        const marked = exists(db, table)
          ? db.prepare(`SELECT id FROM "${table}" WHERE _act_deleted = 1`).all()
          : [];
        for (const row of marked) {
          if (this.#removed.get(entity)?.has(String(row.id))) continue;
          counts.lost++;
          counts.problems.push(`${table} ${row.id} marked deleted after the table went missing`);
        }
        continue;
      }
      const truth = this.#sim.custom.rows(entity);
      this.#rows(db, table, truth, this.#removed.get(entity), counts, exact);
      for (const link of shapeOf(customTableSpec(entity, table)).links) {
        const want = new Set<string>();
        for (const row of truth) {
          for (const item of (row[link.field] ?? []) as { id: unknown }[]) {
            want.add(`${row.id} ${item.id}`);
          }
        }
        const live = new Set(truth.map((row) => String(row.id)));
        const got = new Set<string>();
        const sql = `SELECT "${link.parentColumn}" AS p, "${link.relatedColumn}" AS r ` +
          `FROM "${link.table}"`;
        for (const row of exists(db, link.table) ? db.prepare(sql).all() : []) {
          if (live.has(String(row.p))) got.add(`${row.p} ${row.r}`);
        }
        for (const pair of want) {
          if (!got.has(pair)) (counts.lost++, counts.problems.push(`${link.table} ${pair} lost`));
        }
        for (const pair of got) {
          if (!want.has(pair)) {
            (counts.stale++, counts.problems.push(`${link.table} ${pair} stale`));
          }
        }
      }
    }
  }

  #rows(
    db: DatabaseSync,
    table: string,
    truth: Record<string, unknown>[],
    removed: Set<string> | undefined,
    counts: Counts,
    exact: boolean,
  ): void {
    const byId = new Map<string, Record<string, unknown>>();
    if (exists(db, table)) {
      for (const row of db.prepare(`SELECT * FROM "${table}"`).all()) byId.set(String(row.id), row);
    }
    const types = new Map<string, ColumnType>();
    const ids = new Set<string>();
    for (const record of truth) {
      const expected = flattenRecord(record, types);
      ids.add(expected.id);
      const actual = byId.get(expected.id);
      if (!actual || actual._act_deleted !== 0) {
        counts.lost++;
        counts.problems.push(`${table} ${expected.id} lost`);
        continue;
      }
      for (const [path, value] of Object.entries(expected)) {
        const got = actual[plainName(path)] ?? null;
        const want = typeof value === "boolean" ? (value ? 1 : 0) : value;
        if (got !== want && String(got) !== String(want)) {
          counts.stale++;
          counts.problems.push(`${table} ${expected.id} stale: ${plainName(path)}`);
          break;
        }
      }
    }
    for (const [id, row] of byId) {
      if (ids.has(id) || row._act_deleted !== 0 || (!exact && removed?.has(id))) continue;
      counts.extra++;
      counts.problems.push(`${table} ${id} live in the destination but not in Act!`);
    }
  }
}

function exists(db: DatabaseSync, table: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?").get(table) !==
    undefined;
}
