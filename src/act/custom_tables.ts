/**
 * The customer's Act! custom tables as data: the entity list of `/api/metadata/entities`, the
 * destination table name of each, and the spec it is read by.
 *
 * ## How a custom table is named
 *
 * The Act! entity name is folded to ASCII (accents dropped: `Équipement` → `equipement`), lower
 * cased, every run of other characters becomes one `_` (spaces, punctuation and letters without
 * an ASCII form), `_` at either end goes, and it is cut to {@linkcode MAX_SLUG} characters;
 * the table is `custom_<that>` (`custom_table` when nothing is left). No built-in table starts
 * with `custom_`. When the name, or one derived from it (its `_live` view, its link tables), is
 * already used by another custom table, `_2`, `_3`, … is appended: entities already named keep
 * their names, new ones are named in the order of their Act! names. The names given are kept
 * in the state file (`custom_tables`), so a name never changes between runs.
 *
 * @module
 */
import type { CustomTableName, TableSpec } from "./tables.ts";

/** The longest part of a custom table's name after `custom_` (PostgreSQL allows 63 bytes). */
export const MAX_SLUG = 30;

/** The arrays of a custom record that become link tables, with the related table's singular. */
export const CUSTOM_LINKS: Readonly<Record<string, string>> = {
  contacts: "contact",
  companies: "company",
  groups: "group",
  opportunities: "opportunity",
};

/** Keys that may hold an entity's name in `/api/metadata/entities`, in order of preference. */
const NAME_KEYS = ["name", "entityName", "tableName", "logicalName", "apiName", "displayName"];

/**
 * The entity names in a response of `/api/metadata/entities` (rows as the client parsed them:
 * objects with a name under one of several keys, case-insensitively, or plain strings).
 * Duplicates and items without a name are left out.
 */
export function entityNames(rows: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const row of rows) {
    let name: unknown = row;
    if (typeof row === "object" && row !== null) {
      const entries = Object.entries(row as Record<string, unknown>);
      name = undefined;
      for (const key of NAME_KEYS) {
        const hit = entries.find(([k, v]) =>
          k.toLowerCase() === key.toLowerCase() && typeof v === "string" && v.trim() !== ""
        );
        if (hit) {
          name = hit[1];
          break;
        }
      }
    }
    if (typeof name === "string" && name.trim() !== "" && !out.includes(name)) out.push(name);
  }
  return out;
}

/** The name rule's first step (see the module comment): `custom_<folded name>`. */
export function customBaseName(entity: string): CustomTableName {
  const slug = entity.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, MAX_SLUG).replace(/_+$/, "");
  return `custom_${slug || "table"}`;
}

/** The names a custom table occupies: itself, its `_live` view, its link tables and theirs. */
function occupied(table: string): string[] {
  const names = [table, ...Object.keys(CUSTOM_LINKS).map((field) => `${table}_${field}`)];
  return [...names, ...names.map((name) => `${name}_live`), `${table}_history`];
}

/**
 * Names for entities: those in `known` (entity → table) keep theirs; every other entity of
 * `entities` gets a name by the rule of the module comment. Returns the whole mapping.
 */
export function assignCustomNames(
  entities: readonly string[],
  known: Readonly<Record<string, string>>,
): Record<string, CustomTableName> {
  const out: Record<string, CustomTableName> = {};
  const used = new Set<string>();
  for (const [entity, table] of Object.entries(known)) {
    out[entity] = table as CustomTableName;
    for (const name of occupied(table)) used.add(name);
  }
  const fresh = entities.filter((entity) => !(entity in known));
  fresh.sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
  for (const entity of fresh) {
    const base = customBaseName(entity);
    let table: CustomTableName = base;
    for (let n = 2; occupied(table).some((name) => used.has(name)); n++) table = `${base}_${n}`;
    out[entity] = table;
    for (const name of occupied(table)) used.add(name);
  }
  return out;
}

/** How the custom table `table` is read: Act!'s OData list of the entity, on `edited`. */
export function customTableSpec(entity: string, table: CustomTableName): TableSpec {
  return {
    name: table,
    path: `/api/custom/entities/${encodeURIComponent(entity)}`,
    fallbackPaths: [],
    cursorField: "edited",
    cursorJsonField: "edited",
    custom: { entity },
  };
}
