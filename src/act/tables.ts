/**
 * The Act! tables as data: where each lives and how it is read incrementally.
 *
 * @module
 */

/** Table names, in the order they are synced. */
export const TABLE_NAMES = [
  "contacts",
  "companies",
  "opportunities",
  "activities",
  "activity_types",
  "products",
  "history",
  "groups",
  "users",
  "opportunity_products",
  // Notes (custom tables follow every table named here, see `src/act/custom_tables.ts`).
  "notes",
] as const;

/** One of {@linkcode TABLE_NAMES}: a table every Act! database has. */
export type BuiltinTableName = typeof TABLE_NAMES[number];

/** A table copied from one of the customer's Act! custom tables (`src/act/custom_tables.ts`). */
export type CustomTableName = `custom_${string}`;

/** A destination table read from Act!: a built-in one or a custom table. */
export type TableName = BuiltinTableName | CustomTableName;

/** How one table is read from the Act! Web API. */
export interface TableSpec {
  /** Destination table name. */
  readonly name: TableName;
  /** API path below the base URL, e.g. `/api/contacts`. */
  readonly path: string;
  /** Paths tried, in order, when `path` answers 404 (and no `endpoints` override is configured). */
  readonly fallbackPaths: readonly string[];
  /** Property name used in `$filter`/`$orderby` for incremental reads; null = full read each run. */
  readonly cursorField: string | null;
  /** JSON key holding that value in each record (may differ in case). */
  readonly cursorJsonField: string | null;
  /**
   * Read in full when the server rejects `$filter` on the cursor field or its rows lack it
   * (products on some servers; groups, whose `edited` is not documented). @default {false}
   */
  readonly cursorOptional?: boolean;
  /**
   * The endpoint may ignore every OData option (users: "no OData documented"): read it as a
   * whole list, paging only while the server shows it honours `$top`/`$skip`. @default {false}
   */
  readonly maybeNoOdata?: boolean;
  /**
   * Rows are read per parent record, at `path` with `{id}` the parent's id: the parent table
   * is scanned on its own cursor (ids and cursor only) and each new or changed parent's rows
   * replace its previous ones; `parentKey` (set on every row) names the parent.
   */
  readonly perParent?: { readonly table: BuiltinTableName; readonly parentKey: string };
  /**
   * When the server rejects `$filter` on the cursor field, read the table as a whole list
   * (which may ignore every OData option) and mark deleted the stored rows it no longer holds,
   * within the mass-delete guard (notes, which Act! does not list as OData-enabled).
   * @default {false}
   */
  readonly wholeListFallback?: boolean;
  /** The Act! custom table this table copies (custom tables only). */
  readonly custom?: { readonly entity: string };
}

/** The table specs, keyed by name. */
export const TABLES: Readonly<Record<BuiltinTableName, TableSpec>> = {
  contacts: {
    name: "contacts",
    path: "/api/contacts",
    fallbackPaths: [],
    cursorField: "edited",
    cursorJsonField: "edited",
  },
  companies: {
    name: "companies",
    path: "/api/companies",
    fallbackPaths: [],
    cursorField: "edited",
    cursorJsonField: "edited",
  },
  opportunities: {
    name: "opportunities",
    path: "/api/opportunities",
    fallbackPaths: [],
    cursorField: "edited",
    cursorJsonField: "edited",
  },
  activities: {
    name: "activities",
    path: "/api/activities",
    fallbackPaths: [],
    cursorField: "edited",
    cursorJsonField: "edited",
  },
  activity_types: {
    name: "activity_types",
    path: "/api/activity-types",
    fallbackPaths: ["/api/task-types"],
    cursorField: null,
    cursorJsonField: null,
  },
  products: {
    name: "products",
    path: "/api/products",
    fallbackPaths: [],
    cursorField: "editdate",
    cursorJsonField: "editDate",
    cursorOptional: true,
  },
  history: {
    name: "history",
    // `details` as plain text where the server supports it (others ignore the parameter).
    path: "/api/history?format=text",
    fallbackPaths: [],
    cursorField: "edited",
    cursorJsonField: "edited",
  },
  groups: {
    name: "groups",
    path: "/api/groups",
    fallbackPaths: [],
    cursorField: "edited",
    cursorJsonField: "edited",
    cursorOptional: true,
  },
  users: {
    name: "users",
    path: "/api/users",
    fallbackPaths: [],
    cursorField: null,
    cursorJsonField: null,
    maybeNoOdata: true,
  },
  opportunity_products: {
    name: "opportunity_products",
    path: "/api/opportunities/{id}/products",
    fallbackPaths: [],
    cursorField: "edited",
    cursorJsonField: "edited",
    perParent: { table: "opportunities", parentKey: "opportunityID" },
  },
  notes: {
    name: "notes",
    // `noteText` as plain text where the server supports it (others ignore the parameter).
    path: "/api/notes?format=text",
    fallbackPaths: [],
    cursorField: "edited",
    cursorJsonField: "edited",
    cursorOptional: true,
    wholeListFallback: true,
  },
};

/** Whether `name` is one of the built-in table names. */
export function isBuiltinTableName(name: string): name is BuiltinTableName {
  return (TABLE_NAMES as readonly string[]).includes(name);
}

/** Whether `name` is a table name: a built-in one or a custom table's (`custom_…`). */
export function isTableName(name: string): name is TableName {
  return isBuiltinTableName(name) || isCustomTableName(name);
}

/** Whether `name` has the form of a custom table's name (`custom_` and `[a-z0-9_]`). */
export function isCustomTableName(name: string): name is CustomTableName {
  return /^custom_[a-z0-9_]+$/.test(name);
}

/**
 * The `tables` entry that stands for every custom table Act! lists (the default includes it).
 * An entry `-NAME` leaves a table out.
 */
export const ALL_CUSTOM = "custom_*";

/**
 * The tables a `tables` selection chooses, in sync order: the other tables it names, then the
 * custom tables `customs` (in their order) that it includes by name or with
 * {@linkcode ALL_CUSTOM}, less every `-NAME` entry.
 */
export function selectTables(
  selection: readonly string[],
  customs: readonly CustomTableName[],
): TableName[] {
  const named = (name: string) => name !== ALL_CUSTOM && !name.startsWith("-");
  const out = new Set(selection.filter((name) => named(name) && !isCustomTableName(name)));
  const all = selection.includes(ALL_CUSTOM);
  for (const name of customs) if (all || selection.includes(name)) out.add(name);
  for (const entry of selection) if (entry.startsWith("-")) out.delete(entry.slice(1));
  return [...out] as TableName[];
}

/** The spec of a table: a built-in one, else the custom table's among `customs` (or undefined). */
export function specOf(name: string, customs: readonly TableSpec[] = []): TableSpec | undefined {
  return isBuiltinTableName(name) ? TABLES[name] : customs.find((spec) => spec.name === name);
}
