/**
 * The chaos suite's part for the tables reports need: mutations of history, groups and line
 * items while a run pages, and the comparison of every link table with the parents' arrays.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { RunningSimulator } from "../src/simulator/mod.ts";
import { RELATIONS } from "../src/sync/relations.ts";
import { TABLE_NAMES, type TableName, TABLES } from "../src/act/tables.ts";

type Sim = RunningSimulator["sim"];

/**
 * The tables a trial syncs and compares: the record tables. The lookup and metadata tables are
 * read whole every run (tests/lookups_test.ts, tests/labels_test.ts); in a trial they would only
 * add requests for the faults to hit.
 */
export const TRIAL_TABLES = TABLE_NAMES.filter((t) => !TABLES[t].lookup && !TABLES[t].metadata);

/** Configuration keys every trial's run shares. */
export const TRIAL_CONFIG = { log_level: "WARNING", tables: TRIAL_TABLES.join(",") };

/** What {@linkcode compareLinks} adds to a trial. */
export interface LinkCounts {
  lost: number;
  stale: number;
  problems: string[];
}

/**
 * The open points of the report collections (docs/simulator.md), each drawn by chance: among
 * them line-item lists capped at 1 or 2 rows per answer, and line items that carry
 * `OpportunityID`.
 */
export function reportSwitches(
  sw: Sim["switches"],
  chance: (p: number) => boolean,
  faults: string[],
): void {
  if (chance(0.15)) (sw.groupsEdited = false, faults.push("groups without edited"));
  if (chance(0.15)) (sw.usersOdata = true, faults.push("users with OData"));
  if (chance(0.15)) (sw.historyFormat = false, faults.push("history details as stored"));
  if (chance(0.15)) {
    sw.lineItemsBumpOpportunity = false;
    faults.push("line items without bump");
  }
  if (chance(0.2)) {
    sw.subListCap = chance(0.5) ? 1 : 2;
    faults.push(`line items capped at ${sw.subListCap}`);
  }
  if (chance(0.1)) (sw.lineItemsUpperKey = true, faults.push("line items with OpportunityID"));
}

/** Note a row deleted in Act! (reconcile marks it; until then it may linger, live). */
function forget(removed: Map<TableName, Set<string>>, table: TableName, id: string): void {
  if (!removed.has(table)) removed.set(table, new Set());
  removed.get(table)!.add(id);
}

/** Before an opportunity is deleted: its line items go with it. */
export function removeOpportunityItems(
  sim: Sim,
  id: string,
  removed: Map<TableName, Set<string>>,
): void {
  for (const item of sim.lineItems.of(id) ?? []) {
    forget(removed, "opportunity_products", String(item.id));
  }
}

/**
 * Edit (arrays changed), insert or delete a history row, a group or a user, or add, change or
 * remove a line item of an opportunity.
 */
export function mutateReports(
  sim: Sim,
  rnd: () => number,
  removed: Map<TableName, Set<string>>,
): void {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
  const kind = pick(["history", "groups", "users", "opportunity_products"] as const);
  const r = rnd();
  if (kind === "opportunity_products") {
    const opportunities = sim.rows("opportunities");
    if (opportunities.length === 0) return;
    const opp = String(pick(opportunities).id);
    const items = sim.lineItems.of(opp) ?? [];
    if (r < 0.4 || items.length === 0) sim.lineItems.add(opp);
    else if (r < 0.7) {
      sim.lineItems.edit(opp, String(pick(items).id), { quantity: 1 + (r * 9 | 0) });
    } else {
      // Marked deleted by the next sync, or by reconcile when its opportunity goes first.
      const item = String(pick(items).id);
      sim.lineItems.remove(opp, item);
      forget(removed, "opportunity_products", item);
    }
    return;
  }
  const rows = sim.rows(kind);
  if (rows.length === 0) return;
  const id = String(pick(rows).id);
  if (r < 0.5) {
    if (kind === "groups" || kind === "users") {
      sim.edit(
        kind,
        id,
        kind === "groups" ? { name: `chaos ${r}` } : { displayName: `chaos ${r}` },
      );
      return;
    }
    // New arrays: another contact, no company, one opportunity (the link tables follow).
    const contact = pick(sim.rows("contacts"));
    const opp = pick(sim.rows("opportunities"));
    sim.edit(kind, id, {
      contacts: contact ? [{ id: contact.id, displayName: contact.fullName ?? "" }] : [],
      companies: [],
      opportunities: opp ? [{ id: opp.id, name: opp.name }] : [],
    });
  } else if (r < 0.8) {
    sim.insert(kind);
  } else if ((removed.get(kind)?.size ?? 0) < rows.length / 8) {
    sim.remove(kind, id);
    forget(removed, kind, id);
  }
}

/**
 * Compare every link table with the arrays of the parents Act! holds: each pair there, none
 * more (links of deleted parents are not checked: they keep their last links, like their row).
 */
export function compareLinks(
  sim: Sim,
  conn: DatabaseSync,
  counts: LinkCounts,
  rejected: ReadonlySet<string> = new Set(),
): void {
  for (const [table, relations] of Object.entries(RELATIONS)) {
    if (relations.links.length === 0) continue;
    // A parent kept in _act_rejected has no links stored.
    const parents = sim.rows(table as TableName).filter((p) => !rejected.has(`${table}\t${p.id}`));
    const live = new Set(parents.map((p) => String(p.id)));
    for (const link of relations.links) {
      const exists = conn.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?")
        .get(link.table);
      if (!exists) continue;
      const want = new Set<string>();
      for (const parent of parents) {
        for (const item of (parent[link.field] ?? []) as Record<string, unknown>[]) {
          want.add(`${parent.id}\t${item.id}`);
        }
      }
      const got = new Set<string>();
      const sql = `SELECT "${link.parentColumn}" AS p, "${link.relatedColumn}" AS r ` +
        `FROM "${link.table}"`;
      for (const row of conn.prepare(sql).all() as { p: string; r: string }[]) {
        if (live.has(String(row.p))) got.add(`${row.p}\t${row.r}`);
      }
      for (const pair of want) {
        if (got.has(pair)) continue;
        counts.lost++;
        counts.problems.push(`${link.table} ${pair.replace("\t", " → ")} lost`);
      }
      for (const pair of got) {
        if (want.has(pair)) continue;
        counts.stale++;
        counts.problems.push(`${link.table} ${pair.replace("\t", " → ")} outlived its array`);
      }
    }
  }
}
