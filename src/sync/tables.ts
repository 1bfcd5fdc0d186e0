/**
 * The six Act! tables as data: where each lives and how it is read incrementally.
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
  },
};

/** Whether `name` is one of the six table names. */
export function isTableName(name: string): name is TableName {
  return (TABLE_NAMES as readonly string[]).includes(name);
}
