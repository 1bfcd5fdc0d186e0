/**
 * The Act! tables as data: where each lives and how it is read incrementally.
 *
 * @module
 */

/** The lookup tables: small lists read in full every run, so that the records' ids decode. */
export const LOOKUP_TABLE_NAMES = [
  "opportunity_processes",
  "opportunity_stages",
  "history_types",
  "teams",
] as const;

/**
 * The tables of Act!'s field metadata: labels and picklists. Synced last, so that the labelled
 * views see every column the run added.
 */
export const METADATA_TABLE_NAMES = ["field_labels", "picklist_items"] as const;

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
  ...LOOKUP_TABLE_NAMES,
  ...METADATA_TABLE_NAMES,
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
  /**
   * A lookup table (`src/sync/lookups.ts`): read in full every run as a whole list; rows no
   * longer sent are marked deleted (within the mass-delete guard); a 404 skips the table with a
   * WARNING. `members`: an embedded array read per row from `{id}` in this path when a row
   * does not embed it (team rosters).
   */
  readonly lookup?: { readonly members?: { readonly field: string; readonly path: string } };
  /** Read from Act!'s field metadata (`src/sync/metadata.ts`), not from a list of records. */
  readonly metadata?: "fields" | "picklists";
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
  // The lookup tables and the metadata tables: see LOOKUP_TABLE_NAMES, METADATA_TABLE_NAMES.
  opportunity_processes: lookup("opportunity_processes", "/api/opportunities/processes"),
  opportunity_stages: lookup("opportunity_stages", "/api/opportunities/stages"),
  history_types: lookup("history_types", "/api/history-types"),
  teams: {
    ...lookup("teams", "/api/teams"),
    lookup: { members: { field: "members", path: "/api/teams/{id}/roster" } },
  },
  field_labels: metadata("field_labels", "/api/metadata/{type}/fields", "fields"),
  picklist_items: metadata("picklist_items", "/api/metadata/{type}/picklists", "picklists"),
};

/** The spec of a lookup table read from `path`. */
function lookup(name: TableName, path: string): TableSpec {
  return {
    name,
    path,
    fallbackPaths: [],
    cursorField: null,
    cursorJsonField: null,
    maybeNoOdata: true,
    lookup: {},
  };
}

/** The spec of a metadata table read from `path` for each entity type. */
function metadata(name: TableName, path: string, kind: "fields" | "picklists"): TableSpec {
  return {
    name,
    path,
    fallbackPaths: [],
    cursorField: null,
    cursorJsonField: null,
    metadata: kind,
  };
}

/** Whether `name` is one of the table names. */
export function isTableName(name: string): name is TableName {
  return (TABLE_NAMES as readonly string[]).includes(name);
}
