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
] as const;

/** One of {@linkcode TABLE_NAMES}. */
export type TableName = typeof TABLE_NAMES[number];

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
  readonly perParent?: { readonly table: TableName; readonly parentKey: string };
}

/** The table specs, keyed by name. */
export const TABLES: Readonly<Record<TableName, TableSpec>> = {
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
};

/** Whether `name` is one of the table names. */
export function isTableName(name: string): name is TableName {
  return (TABLE_NAMES as readonly string[]).includes(name);
}
