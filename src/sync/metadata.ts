/**
 * Act! as its users see it: the field labels and picklists of Act!'s metadata, and the labelled
 * views built from them.
 *
 * - `field_labels`: one row per field of each entity type that answers
 *   `/api/metadata/{type}/fields` (types in {@linkcode METADATA_TYPES}): `table_name`,
 *   `field_name` (Act!'s name), `source_path` and `column_name` (where the field is stored, NULL
 *   while no record has sent it), `label`, `act_type`, `is_custom`, `act_column` (Act!'s own
 *   column, e.g. `REFERREDBY` behind `customFields.user6`). Id: `<table>/<field name>`.
 * - `picklist_items`: one row per item of each field's drop-down list
 *   (`/api/metadata/{type}/picklists`, items embedded or at
 *   `/api/metadata/drop-down/lists/{id}/items`): `table_name`, `field_name`, `source_path`,
 *   `column_name`, `list_id`, `list_name`, `value`, `item_order`. Id: `<table>/<field>/<value>`.
 *   Only the types that have field labels are asked (all of them when `field_labels` is not
 *   synced).
 * - After `field_labels` is written, each synced table gets its view `<table>_labeled` (see
 *   `src/sink/_labels.ts`), rebuilt only when its text changed.
 *
 * A field is matched to a source path by its name: as a path (`businessAddress.city` →
 * `businessAddress/city`) and under `customFields` (first for a custom field), exactly, then
 * ignoring case, then by column name ignoring case.
 *
 * The answers' shape is not confirmed, so several names are accepted for each property (the
 * Swagger copy's first; see {@linkcode fieldOf}), in a bare array or `{"value": […]}`. A type
 * whose read fails (any error, after the client's retries) is logged as a WARNING and keeps its
 * last labels; so does a type that answers an empty list (Premium Cloud does for activity,
 * history, note and user). Only the types that answered with fields lose rows no longer sent,
 * within the mass-delete guard. Metadata never fails the data tables: they are synced before.
 *
 * @module
 */
import { errorMessage } from "../core/errors.ts";
import { plainName } from "../sink/sink.ts";
import type { TableSpec } from "../act/tables.ts";
import { type LookupContext, markGone } from "./lookups.ts";
import type { ListPage } from "./run_types.ts";
import type { Row } from "./scan.ts";

/** Act! entity types whose metadata is read, and the table each describes. */
export const METADATA_TYPES: Readonly<Record<string, string>> = {
  contact: "contacts",
  company: "companies",
  group: "groups",
  opportunity: "opportunities",
  activity: "activities",
  history: "history",
  note: "notes",
  user: "users",
};

/** Where a drop-down list's items are, when a picklist does not embed them. */
export const DROP_DOWN_ITEMS = "/api/metadata/drop-down/lists/{id}/items";

/** What a metadata read needs from the engine. */
export interface MetadataContext extends Omit<LookupContext, "list" | "top" | "path"> {
  /** One counted request. */
  list: (path: string) => Promise<ListPage>;
  /** The tables of this run (each synced one gets its labelled view). */
  tables: readonly string[];
}

/** One field as Act! describes it. */
export interface ActField {
  name: string;
  label: string | null;
  type: string | null;
  custom: boolean | null;
  column: string | null;
}

function text(value: unknown): string | null {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

function first(item: Record<string, unknown>, keys: readonly string[]): string | null {
  for (const key of keys) {
    const value = text(item[key]);
    if (value !== null) return value;
  }
  return null;
}

/**
 * A field of a metadata answer: name from `name`, `fieldName`, `internalName`, `propertyName`
 * or `columnName`; label from `displayName`, `label`, `caption`, `displayLabel` or `alias`; type
 * from `fieldDataType`, `dataType`, `type` or `fieldType`; custom from `isCustomField`,
 * `isCustom`, `custom` or `isUserField`. Null without a name.
 */
export function fieldOf(item: Record<string, unknown>): ActField | null {
  const name = first(item, ["name", "fieldName", "internalName", "propertyName", "columnName"]);
  if (name === null) return null;
  const flag = item.isCustomField ?? item.isCustom ?? item.custom ?? item.isUserField;
  return {
    name,
    label: first(item, ["displayName", "label", "caption", "displayLabel", "alias"]),
    type: first(item, ["fieldDataType", "dataType", "type", "fieldType"]),
    custom: typeof flag === "boolean" ? flag : null,
    column: text(item.columnName),
  };
}

/** The source path of a field among a table's paths (module doc), or null. */
export function pathResolver(
  paths: Iterable<string>,
): (name: string, custom: boolean | null) => string | null {
  const exact = new Set<string>();
  const lower = new Map<string, string>();
  const plain = new Map<string, string>();
  for (const path of paths) {
    exact.add(path);
    if (!lower.has(path.toLowerCase())) lower.set(path.toLowerCase(), path);
    const name = plainName(path).toLowerCase();
    if (!plain.has(name)) plain.set(name, path);
  }
  return (name, custom) => {
    const dotted = name.replaceAll(".", "/");
    const under = `customFields/${dotted}`;
    const candidates = custom === true ? [under, dotted] : [dotted, under];
    for (const c of candidates) if (exact.has(c)) return c;
    for (const c of candidates) {
      const hit = lower.get(c.toLowerCase());
      if (hit !== undefined) return hit;
    }
    for (const c of candidates) {
      const hit = plain.get(plainName(c).toLowerCase());
      if (hit !== undefined) return hit;
    }
    return null;
  };
}

/** Read the metadata table `spec` (`field_labels` or `picklist_items`). */
export async function readMetadata(spec: TableSpec, ctx: MetadataContext): Promise<void> {
  if (spec.metadata === "fields") {
    await readFields(spec, ctx);
    await labelViews(ctx);
  } else await readPicklists(spec, ctx);
}

/** The answer of one metadata request, or null (a WARNING logged: the last rows are kept). */
async function ask(ctx: MetadataContext, path: string, what: string): Promise<Row[] | null> {
  try {
    return (await ctx.list(path)).rows;
  } catch (error) {
    ctx.logger.warning(
      `Cannot read ${what} (${path}): ${errorMessage(error)}; keeping the last ones`,
    );
    return null;
  }
}

async function readFields(spec: TableSpec, ctx: MetadataContext): Promise<void> {
  const rows: Row[] = [];
  const answered = new Set<string>();
  for (const [type, table] of Object.entries(METADATA_TYPES)) {
    const items = await ask(ctx, spec.path.replace("{type}", type), `the field labels of ${type}`);
    const fields = (items ?? []).map(fieldOf).filter((f): f is ActField => f !== null);
    if (fields.length === 0) continue; // no answer, or an empty list: the last labels stay
    answered.add(table);
    const columns = await ctx.sink.columnsOf?.(table) ?? new Map<string, string>();
    const resolve = pathResolver(columns.keys());
    for (const field of fields) {
      const path = resolve(field.name, field.custom);
      rows.push({
        id: `${table}/${field.name}`,
        table_name: table,
        entity_type: type,
        field_name: field.name,
        label: field.label,
        act_type: field.type,
        is_custom: field.custom,
        act_column: field.column,
        source_path: path,
        column_name: path === null ? null : columns.get(path) ?? null,
      });
    }
  }
  await ctx.write(rows);
  const seen = new Set(rows.map((row) => String(row.id)));
  await markGone(spec.name, seen, ctx, {
    within: (id) => answered.has(id.slice(0, id.indexOf("/"))),
    hint: ": Act! sent fewer fields than before; they are kept",
  });
}

/** Build or refresh the labelled view of every table of the run (module doc). */
async function labelViews(ctx: MetadataContext): Promise<void> {
  const sink = ctx.sink;
  if (!sink.labelView || !sink.columnsOf || !sink.liveRows) return;
  const stored = await sink.liveRows("field_labels", [
    "table_name",
    "field_name",
    "label",
    "is_custom",
  ]);
  for (const table of ctx.tables) {
    if (table === "field_labels" || table === "picklist_items") continue;
    const columns = await sink.columnsOf(table);
    const resolve = pathResolver(columns.keys());
    const labels = new Map<string, string>();
    for (const row of stored) {
      if (row.table_name !== table || typeof row.label !== "string") continue;
      const custom = row.is_custom === null || row.is_custom === undefined
        ? null
        : row.is_custom === true || Number(row.is_custom) === 1;
      const path = resolve(String(row.field_name), custom);
      const column = path === null ? undefined : columns.get(path);
      if (column !== undefined && !labels.has(column)) labels.set(column, row.label);
    }
    try {
      if (await sink.labelView(table, labels)) {
        ctx.logger.info(`Table ${table}: labelled view ${table}_labeled rebuilt`, {
          labels: labels.size,
        });
      }
    } catch (error) {
      ctx.logger.warning(
        `Table ${table}: cannot rebuild the view ${table}_labeled: ${errorMessage(error)}`,
      );
    }
  }
}

/** The types whose picklists are asked for: those with field labels, else all. */
async function picklistTypes(ctx: MetadataContext): Promise<string[]> {
  const all = Object.keys(METADATA_TYPES);
  if (!ctx.tables.includes("field_labels") || !ctx.sink.liveRows) return all;
  const rows = await ctx.sink.liveRows("field_labels", ["entity_type"]);
  const known = new Set(rows.map((row) => String(row.entity_type)));
  return all.filter((type) => known.has(type));
}

async function readPicklists(spec: TableSpec, ctx: MetadataContext): Promise<void> {
  const rows: Row[] = [];
  const answered = new Set<string>();
  const lists = new Map<string, Row[] | null>();
  for (const type of await picklistTypes(ctx)) {
    const table = METADATA_TYPES[type];
    const picklists = await ask(ctx, spec.path.replace("{type}", type), `the picklists of ${type}`);
    if (picklists === null) continue;
    let complete = true;
    const columns = await ctx.sink.columnsOf?.(table) ?? new Map<string, string>();
    const resolve = pathResolver(columns.keys());
    for (const picklist of picklists) {
      const listId = first(picklist, [
        "id",
        "listId",
        "dropDownListId",
        "pickListId",
        "picklistId",
      ]);
      const listName = first(picklist, ["name", "listName", "displayName"]);
      let items = embeddedItems(picklist);
      if (items === null && listId !== null) {
        if (!lists.has(listId)) {
          const path = DROP_DOWN_ITEMS.replace("{id}", encodeURIComponent(listId));
          lists.set(listId, await ask(ctx, path, `the items of drop-down list ${listId}`));
        }
        items = lists.get(listId)!;
      }
      if (items === null) {
        complete = false;
        continue;
      }
      for (const field of fieldsOf(picklist)) {
        const path = resolve(field, null);
        items.forEach((item, i) => {
          const value = typeof item === "string"
            ? item
            : first(item, ["value", "name", "text", "displayValue", "itemValue"]);
          if (value === null) return;
          const order = typeof item === "string"
            ? null
            : first(item, ["sortOrder", "order", "position", "displayOrder", "index"]);
          rows.push({
            id: `${table}/${field}/${value}`,
            table_name: table,
            entity_type: type,
            field_name: field,
            source_path: path,
            column_name: path === null ? null : columns.get(path) ?? null,
            list_id: listId,
            list_name: listName,
            value,
            item_order: order === null || Number.isNaN(Number(order)) ? i : Number(order),
          });
        });
      }
    }
    if (complete && picklists.length > 0) answered.add(table);
  }
  await ctx.write(rows);
  const seen = new Set(rows.map((row) => String(row.id)));
  await markGone(spec.name, seen, ctx, {
    within: (id) => answered.has(id.slice(0, id.indexOf("/"))),
    hint: ": Act! sent fewer picklist items than before; they are kept",
  });
}

/** A picklist's embedded items (`items`, `values`, `listItems`), or null. */
function embeddedItems(picklist: Row): (Row | string)[] | null {
  for (const key of ["items", "values", "listItems"]) {
    const value = picklist[key];
    if (Array.isArray(value)) {
      return value.filter((v) => typeof v === "string" || (typeof v === "object" && v !== null));
    }
  }
  return null;
}

/** The fields a picklist belongs to (`fieldName`, `field`, `columnName`, or `fields`). */
function fieldsOf(picklist: Row): string[] {
  const one = first(picklist, ["fieldName", "field", "columnName"]);
  if (one !== null) return [one];
  const many = picklist.fields;
  if (!Array.isArray(many)) return [];
  return many.map((f) =>
    typeof f === "string" ? f : f && typeof f === "object" ? fieldOf(f)?.name : null
  )
    .filter((f): f is string => typeof f === "string" && f !== "");
}
