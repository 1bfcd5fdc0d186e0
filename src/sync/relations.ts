/**
 * How the tables relate, as data: which fields hold another table's id (stored as text, like
 * every `id`, and indexed) and which arrays of related records become link tables
 * `<parent>_<related>` (`opportunity_contacts`: `opportunity_id`, `contact_id`). Keyed by table
 * name, so a table gets its relations as soon as it is in {@linkcode TABLES}.
 *
 * @module
 */
import type { FlatPage, LinkRows, LinkShape, TableShape } from "../sink/sink.ts";
import { flattenPage, flattenRecord } from "./flatten.ts";
import type { TableSpec } from "../act/tables.ts";

/** The relations of one table. */
export interface Relations {
  /** Fields that hold another table's id. */
  readonly refs: readonly string[];
  /** The link tables fed from this table's arrays. */
  readonly links: readonly LinkShape[];
}

/** Link tables of a parent (`singular`, e.g. `opportunity`) from its arrays: field → related singular. */
function links(singular: string, arrays: Record<string, string>): LinkShape[] {
  return Object.entries(arrays).map(([field, related]) => ({
    field,
    table: `${singular}_${field}`,
    parentColumn: `${singular}_id`,
    relatedColumn: `${related}_id`,
  }));
}

const MANAGED = ["recordManagerID"];

/** The relations of every table (tables not listed have none). */
export const RELATIONS: Readonly<Record<string, Relations>> = {
  contacts: { refs: ["companyID", ...MANAGED], links: [] },
  companies: { refs: ["parentID", "rootParentID", ...MANAGED], links: [] },
  opportunities: {
    refs: ["managerID", ...MANAGED],
    links: links("opportunity", { contacts: "contact", companies: "company", groups: "group" }),
  },
  activities: {
    refs: ["activityTypeId", "scheduledByID", "scheduledForID", ...MANAGED],
    links: links("activity", {
      contacts: "contact",
      companies: "company",
      opportunities: "opportunity",
      groups: "group",
    }),
  },
  history: {
    refs: ["historyTypeID", "createUserID", "editUserID", ...MANAGED],
    links: links("history", {
      contacts: "contact",
      companies: "company",
      opportunities: "opportunity",
      groups: "group",
    }),
  },
  opportunity_products: { refs: ["opportunityID", "productID"], links: [] },
  // Lookup tables: a team's members (read from its roster when not embedded) are users.
  teams: { refs: ["managerID"], links: links("team", { members: "user" }) },
};

/** The schema shape of a table: its references, cursor and link tables. */
export function shapeOf(spec: TableSpec): TableShape {
  const relations = RELATIONS[spec.name];
  return {
    refs: relations?.refs ?? [],
    cursor: spec.cursorJsonField,
    links: relations?.links ?? [],
  };
}

/**
 * Flatten a page of records for the sink with the table's shape and link rows: each array of
 * related records gives one link row per distinct related id, with its index in the array
 * (items without an id are left out; a record read twice in the page links as its last copy
 * does). With `onReject`, a record that cannot be stored is handed to it and left out, links
 * included.
 */
export function flattenForSink(
  spec: TableSpec,
  rows: readonly Record<string, unknown>[],
  onReject?: (record: Record<string, unknown>, reason: string) => void,
): FlatPage {
  const rejected = new Set<Record<string, unknown>>();
  const page = flattenPage(rows, {
    table: spec.name,
    ...(onReject
      ? {
        onReject: (record, reason) => {
          rejected.add(record);
          onReject(record, reason);
        },
      }
      : {}),
  });
  const shape = shapeOf(spec);
  page.shape = shape;
  if (shape.links.length === 0) return page;
  const last = new Map<string, Record<string, unknown>>();
  for (const row of rows) if (!rejected.has(row)) last.set(String(row.id), row);
  page.links = shape.links.map((link): LinkRows => {
    const out: LinkRows = { link, rows: [], types: new Map() };
    const options = { table: link.table };
    for (const [parent, row] of last) {
      const array = row[link.field];
      if (!Array.isArray(array)) continue;
      const seen = new Set<string>();
      for (const [position, item] of array.entries()) {
        if (typeof item !== "object" || item === null || Array.isArray(item)) continue;
        const id = (item as Record<string, unknown>).id;
        if (id === null || id === undefined || id === "") continue;
        if (seen.has(String(id))) continue;
        seen.add(String(id));
        const related = flattenRecord({ ...item, id: String(id) }, out.types, options);
        out.rows.push({ parent, related, position });
      }
    }
    out.types.delete("id");
    return out;
  });
  return page;
}
