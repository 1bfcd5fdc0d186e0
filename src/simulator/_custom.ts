/**
 * Private: the simulator's notes quirks and the customer's custom tables. `/api/metadata/entities`
 * lists the entities of the `customEntities` switch; `/api/custom/entities/{name}` serves each
 * one's rows (full OData, `created`/`edited`, embedded contacts, companies, groups and
 * opportunities), generated on first use, deterministic by seed and entity name;
 * `/api/metadata/{name}/fields` describes each one's fields (their labels) in the Swagger shape,
 * and `…/picklists` answers an empty list (both 404 with the `customMetadata` switch off).
 *
 * @module
 */
import type { BuiltinTableName } from "../act/tables.ts";
import { assignCustomNames } from "../act/custom_tables.ts";
import type { Dataset, Row } from "./_data.ts";
import { actDate, formatGuid, hash32, Random } from "./_random.ts";
import { TableStore } from "./_store.ts";
import { htmlToText } from "./_reports.ts";
import { CUSTOM_ENTITY_KINDS } from "./options.ts";

const DAY = 86_400_000;
const STATUSES = ["Planned", "Active", "On hold", "Done"];
const EQUIPMENT = ["Excavator", "Mini loader", "Scissor lift", "Generator 20 kVA", "Forklift"];
const RESULTS = ["Passed", "Passed with remarks", "Failed", "Re-inspection due"];

/** One field of a custom entity as `/api/metadata/{name}/fields` describes it. */
export interface CustomField {
  name: string;
  label: string;
  type: string;
}

/** The fields of each kind of custom entity (the generated rows' fields, with labels). */
const FIELDS: Readonly<Record<string, readonly [string, string, string][]>> = {
  project: [
    ["name", "Project Name", "Character"],
    ["status", "Project Status", "Character"],
    ["budget", "Budget", "Currency"],
    ["dueDate", "Due Date", "Date"],
  ],
  rental: [
    ["Équipement", "Equipment", "Character"],
    ["Daily Rate", "Daily Rate", "Currency"],
    ["rentedFrom", "Rented From", "Date"],
    ["rentedTo", "Rented To", "Date"],
    ["returned", "Returned", "YesNo"],
  ],
  inspection: [
    ["site", "Site", "Character"],
    ["result", "Inspection Result", "Character"],
    ["inspectedOn", "Inspected On", "Date"],
  ],
  generic: [["name", "Name", "Character"]],
};

/** What a route below `/api/custom` or `/api/metadata` asks for. */
export type CustomRoute = { list: Row[] } | { store: TableStore } | { missing: true };

/** The custom entities of one simulator (see the module comment). */
export class CustomEntities {
  #data: Dataset;
  #listed: () => readonly string[];
  #metadata: () => boolean;
  #stores = new Map<string, TableStore>();
  /** Entities whose fields `/api/metadata/{name}/fields` has described. */
  #described = new Set<string>();

  /**
   * `listed` gives the entity names listed now (the `customEntities` switch), `metadata` whether
   * their field metadata answers (the `customMetadata` switch).
   */
  constructor(data: Dataset, listed: () => readonly string[], metadata: () => boolean) {
    this.#data = data;
    this.#listed = listed;
    this.#metadata = metadata;
  }

  /** The fields Act! describes for an entity, with their labels. */
  fields(entity: string): CustomField[] {
    const kind = CUSTOM_ENTITY_KINDS[entity] ?? "generic";
    return FIELDS[kind].map(([name, label, type]) => ({ name, label, type }));
  }

  /** The route for path segments `["api", …]`, or null when it is not one of these. */
  route(parts: readonly string[]): CustomRoute | null {
    const [, first, second, name] = parts.map((p) => p.toLowerCase());
    if (first === "metadata" && second === "entities" && parts.length === 3) {
      return {
        list: this.#listed().map((entity) => ({
          name: entity,
          displayName: entity,
          description: `${entity} (custom table)`,
          isCustom: true,
        })),
      };
    }
    if (first === "metadata" && parts.length === 4 && (name === "fields" || name === "picklists")) {
      const wanted = decodeURIComponent(parts[2]).toLowerCase();
      const entity = this.#listed().find((e) => e.toLowerCase() === wanted);
      if (entity === undefined) return null; // not a custom entity: Act!'s own types
      if (!this.#metadata()) return { missing: true };
      if (name === "picklists") return { list: [] };
      this.#described.add(entity);
      return {
        list: this.fields(entity).map((f) => ({
          name: f.name,
          displayName: f.label,
          fieldDataType: f.type,
          isCustomField: true,
          tableName: `TBL_${entity.toUpperCase()}`,
        })),
      };
    }
    if (first !== "custom" || second !== "entities" || name === undefined) return null;
    const wanted = decodeURIComponent(parts[3]).toLowerCase();
    const entity = this.#listed().find((e) => e.toLowerCase() === wanted);
    return entity && parts.length === 4 ? { store: this.store(entity) } : { missing: true };
  }

  /** The rows of an entity (generated on first use, listed or not). */
  store(entity: string): TableStore {
    let store = this.#stores.get(entity);
    if (!store) {
      // A table the dataset does not generate: every row is an "inserted" one.
      store = new TableStore(`custom:${entity}` as BuiltinTableName, this.#data);
      const seed = hash32(this.#data.seed, hashText(entity), 77);
      const n = Math.max(5, Math.ceil(this.#data.counts.contacts / 8));
      for (let i = 0; i < n; i++) store.add(this.row(entity, i, new Random(hash32(seed, i))));
      this.#stores.set(entity, store);
    }
    return store;
  }

  /**
   * The `field_labels` rows a sync stores for the custom entities whose fields have been asked
   * (a sync asks for those of the custom tables it reads, and keeps them when a table goes
   * missing), without `source_path` and `column_name` (see `SimMetadata.rows`).
   */
  labelRows(): Row[] {
    const names = assignCustomNames([...this.#described].sort(), {});
    return [...this.#described].flatMap((entity) =>
      this.fields(entity).map((f) => ({
        id: `${names[entity]}/${f.name}`,
        table_name: names[entity],
        entity_type: entity,
        field_name: f.name,
        label: f.label,
        act_type: f.type,
        is_custom: true,
        act_column: null,
      }))
    );
  }

  /** The rows of an entity as served, in storage order. */
  rows(entity: string): Row[] {
    return this.store(entity).all();
  }

  /** Apply `patch` to a row and stamp its `edited` with `stampMs`; returns it. */
  edit(entity: string, id: string, stampMs: number, patch: Row = {}): Row {
    const store = this.store(entity);
    const row = store.get(id);
    if (!row) throw new RangeError(`Cannot edit ${entity}: no record with id "${id}"`);
    const next = store.stamp({ ...structuredClone(row), ...patch, id: row.id }, stampMs);
    store.put(id, next);
    return structuredClone(next);
  }

  /** Insert a new realistic row stamped `stampMs`; returns it. */
  insert(entity: string, stampMs: number): Row {
    const store = this.store(entity);
    const seq = store.nextInsert();
    const rng = new Random(hash32(this.#data.seed, hashText(entity), seq, 78));
    const row = this.row(entity, seq + 1000, rng, stampMs);
    store.add(row);
    return structuredClone(row);
  }

  /** Delete a row; false if there was none. */
  remove(entity: string, id: string): boolean {
    return this.store(entity).delete(id);
  }

  /** A realistic row of an entity; `stampMs` (inserts) stamps it, else a generated time. */
  row(entity: string, i: number, r: Random, stampMs?: number): Row {
    const data = this.#data;
    const span = data.endMs - data.startMs;
    const created = stampMs ?? data.startMs + Math.floor(r.next() * span / 1000) * 1000;
    const edited = stampMs ?? Math.min(data.endMs, created + r.int(0, 400) * DAY);
    const owner = r.pick(data.users);
    const nc = data.counts.contacts;
    const contacts: Row[] = [];
    for (let m = 0; nc > 0 && m < r.int(1, 2); m++) {
      const j = r.int(0, nc - 1);
      const [f, l] = data.contactName(j);
      const id = data.guid("contacts", j);
      if (!contacts.some((c) => c.id === id)) contacts.push({ id, displayName: `${f} ${l}` });
    }
    const ncompanies = data.counts.companies;
    const k = ncompanies > 0 ? r.int(0, ncompanies - 1) : -1;
    const companies = k >= 0 && r.chance(0.8)
      ? [{ id: data.guid("companies", k), name: data.companyName(k) }]
      : [];
    const no = data.counts.opportunities;
    const o = no > 0 && r.chance(0.3) ? r.int(0, no - 1) : -1;
    const opportunities = o >= 0 ? [{ id: data.guid("opportunities", o) }] : [];
    const ng = data.counts.groups;
    const groups = ng > 0 && r.chance(0.1) ? [{ id: data.guid("groups", r.int(0, ng - 1)) }] : [];
    const common = {
      id: formatGuid(r.hex(32)),
      created: actDate(created),
      edited: actDate(edited),
      editedBy: r.pick(data.users).name,
      recordOwner: owner.name,
      recordOwnerID: owner.id,
    };
    const links = { contacts, companies, groups, opportunities };
    switch (CUSTOM_ENTITY_KINDS[entity] ?? "generic") {
      case "project":
        return {
          ...common,
          name: `Project ${i + 1}: ${companies[0]?.name ?? "internal"}`,
          status: r.pick(STATUSES),
          budget: `${r.int(10, 900) * 100}.00`,
          dueDate: actDate(created + r.int(30, 300) * DAY),
          ...links,
        };
      case "rental":
        return {
          ...common,
          "Équipement": r.pick(EQUIPMENT),
          "Daily Rate": r.int(80, 900),
          rentedFrom: actDate(created),
          rentedTo: actDate(created + r.int(1, 30) * DAY),
          returned: r.chance(0.7),
          ...links,
        };
      case "inspection":
        return {
          ...common,
          site: `Site ${r.int(1, 99)}`,
          result: r.pick(RESULTS),
          inspectedOn: actDate(created),
          ...links,
        };
      default:
        return { ...common, name: `${entity} ${i + 1}`, ...links };
    }
  }
}

/** `/api/notes` without OData (a switch): these options answer 400 (`$top`/`$skip` page). */
export function checkNotesQuery(query: URLSearchParams, odata: boolean): void {
  if (odata) return;
  for (const key of ["$filter", "$orderby", "$select"]) {
    if (query.has(key)) {
      throw new SyntaxError(`The query parameter '${key}' is not supported on this resource`);
    }
  }
}

/** A note as sent for `format` (`text`: `noteText` as plain text) when `honour` is on. */
export function noteView(row: Row, format: string | null, honour: boolean): Row {
  const text = row.noteText;
  if (!honour || typeof text !== "string" || (format ?? "").toLowerCase() !== "text") return row;
  return { ...row, noteText: htmlToText(text) };
}

function hashText(text: string): number {
  let h = 0;
  for (const ch of text) h = hash32(h, ch.codePointAt(0)!);
  return h;
}
