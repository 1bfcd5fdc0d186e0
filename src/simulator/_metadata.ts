/**
 * Private: what the simulator serves besides the records: Act!'s field metadata (labels and
 * picklists, `/api/metadata/…`) and the lookup lists (opportunity processes and stages, history
 * types, teams with their rosters). All of it is deterministic by seed and mutable by tests:
 * {@linkcode SimMetadata.lookups} are plain arrays, {@linkcode SimMetadata.renameLabel} renames a
 * field's label between runs.
 *
 * The shape of the metadata answers is not confirmed: the default (`metadataShape: "swagger"`)
 * follows the Swagger copy's names (`name`, `displayName`, `fieldDataType`, `isCustomField`;
 * picklists `{id, name, fieldName}` with items at `/api/metadata/drop-down/lists/{id}/items` as
 * `{id, value, sortOrder}`); `"alternate"` sends other plausible names (`fieldName`, `label`,
 * `dataType`, `isCustom`), in `{"value": […]}`, with the items embedded in each picklist.
 *
 * @module
 */
import {
  type Dataset,
  historyTypes,
  INDUSTRIES,
  processGuid,
  type Row,
  stageGuid,
  STAGES,
  TERRITORIES,
} from "./_data.ts";
import { formatGuid, hash32, hex8 } from "./_random.ts";
import { json } from "./_responses.ts";
import { subListPage } from "./_reports.ts";
import type { SimulatorSwitches } from "./options.ts";
import type { TableName } from "../act/tables.ts";

/** One field of an entity type, as the simulator keeps it. */
export interface SimField {
  /** The record's JSON key (dotted for nested keys, `customFields` keys without the prefix). */
  name: string;
  label: string;
  type: string;
  custom: boolean;
  /** Act!'s database column when it differs from `name` (a system field behind a custom one). */
  column?: string;
  /** The picklist of the field, by its key in {@linkcode LISTS}. */
  list?: string;
}

type Lists = Record<string, { id: number; name: string; items: string[] }>;

/** The drop-down lists, by key. */
const LISTS: Lists = {
  territory: { id: 11, name: "Territories", items: [...TERRITORIES] },
  industry: { id: 12, name: "Industries", items: [...INDUSTRIES] },
  tier: { id: 13, name: "Tiers", items: ["Gold", "Silver", "Bronze"] },
  status: {
    id: 14,
    name: "ID/Status",
    items: ["Active", "Customer", "Prospect", "Inactive", "Referral"],
  },
  rating: { id: 15, name: "Company Rating", items: ["A", "B", "C"] },
  quarter: { id: 16, name: "Quarters", items: ["Q1", "Q2", "Q3", "Q4"] },
};

function field(
  name: string,
  label: string,
  type: string,
  more: Partial<SimField> = {},
): SimField {
  return { name, label, type, custom: false, ...more };
}

function custom(name: string, label: string, type: string, more: Partial<SimField> = {}) {
  return field(name, label, type, { custom: true, ...more });
}

/** The fields of each entity type that answers (others answer an empty list). */
function defaultFields(): Record<string, SimField[]> {
  return {
    contact: [
      field("firstName", "First Name", "Character"),
      field("lastName", "Last Name", "Character"),
      field("company", "Company", "Character"),
      field("jobTitle", "Title", "Character"),
      field("emailAddress", "E-mail", "Email"),
      field("businessAddress.city", "City", "Character"),
      field("homeAddress.city", "Home City", "Character"),
      field("idStatus", "ID/Status", "Character", { list: "status" }),
      custom("user1", "Territory", "Character", { list: "territory" }),
      custom("user2", "Budget", "Currency"),
      custom("user3", "Credit Limit", "Decimal"),
      custom("user4", "Industry", "Character", { list: "industry" }),
      custom("user5", "Last Review", "Date"),
      // A system field hidden behind a custom one.
      custom("user6", "Referred By", "Character", { column: "REFERREDBY" }),
      custom("user10", "Tier", "Character", { list: "tier" }),
      // The same label as user1: the labelled view names the later column "Territory (2)".
      custom("territory", "Territory", "Character"),
      custom("email_2_email", "E-mail 2", "Email"),
      custom("user30", "Never Used", "Character"),
    ],
    company: [
      field("name", "Company", "Character"),
      field("industry", "Industry", "Character", { list: "industry" }),
      field("region", "Region", "Character", { list: "territory" }),
      field("address.city", "City", "Character"),
      custom("user1", "Rating", "Character", { list: "rating" }),
      custom("user2", "Employee Budget", "Currency"),
    ],
    group: [
      field("name", "Group Name", "Character"),
      field("description", "Description", "Memo"),
    ],
    opportunity: [
      field("name", "Opportunity Name", "Character"),
      field("productTotal", "Total", "Currency"),
      custom("user1", "Quarter", "Character", { list: "quarter" }),
      custom("user2", "Budget", "Currency"),
    ],
  };
}

/** The lookup lists, as served (teams keep their member ids in `members`). */
export interface SimLookups {
  opportunity_processes: Row[];
  opportunity_stages: Row[];
  history_types: Row[];
  teams: Row[];
}

/** Another process, with stages no generated opportunity is in. */
const RENEWAL_STAGES = [["Renewal Due", 40], ["Quote Sent", 70], ["Renewed", 100]] as const;

function lookupsOf(data: Dataset): SimLookups {
  const seed = data.seed;
  const processes = [
    {
      id: processGuid(seed, 1),
      name: "Standard Sales Process",
      description: "Default opportunity process",
    },
    { id: processGuid(seed, 2), name: "Renewal Process", description: "Contract renewals" },
  ];
  const stages: Row[] = STAGES.map(([name, probability], no) => ({
    id: stageGuid(seed, no),
    name,
    description: "",
    number: no + 1,
    probability,
    process: { id: processes[0].id, name: processes[0].name },
  }));
  RENEWAL_STAGES.forEach(([name, probability], no) =>
    stages.push({
      id: formatGuid(hex8(hash32(seed, 93, no)).repeat(4)),
      name,
      description: "",
      number: no + 1,
      probability,
      process: { id: processes[1].id, name: processes[1].name },
    })
  );
  const users = data.users;
  const teams = ["Sales West", "Sales East", "Support"].map((name, i) => ({
    id: formatGuid(hex8(hash32(seed, 94, i)).repeat(4)),
    name,
    description: `${name} team`,
    managerID: users[i % users.length].id,
    members: users.filter((_, k) => k % 3 === i % 3).map((u) => u.id),
  }));
  return {
    opportunity_processes: processes,
    opportunity_stages: stages,
    history_types: historyTypes(),
    teams,
  };
}

/** The metadata and lookups of one simulator. */
export class SimMetadata {
  /** Fields per entity type; mutable (see {@linkcode renameLabel}). */
  readonly fields: Record<string, SimField[]>;
  /** The lookup lists; mutable arrays (insert, edit or delete rows between runs). */
  readonly lookups: SimLookups;
  #data: Dataset;
  #switches: SimulatorSwitches;

  constructor(data: Dataset, switches: SimulatorSwitches) {
    this.#data = data;
    this.#switches = switches;
    this.fields = defaultFields();
    this.lookups = lookupsOf(data);
  }

  /** Rename the label of field `name` of entity type `type` (Act!'s "Define Fields"). */
  renameLabel(type: string, name: string, label: string): void {
    const found = this.fields[type]?.find((f) => f.name === name);
    if (!found) throw new RangeError(`Cannot rename label: no field "${name}" of "${type}"`);
    found.label = label;
  }

  /**
   * The answer to a metadata or lookup route (`parts`: the path's segments, `api` first), or
   * null when the route is not one of them.
   */
  route(parts: readonly string[], query = new URLSearchParams()): Response | null {
    const p = parts.map((part) => part.toLowerCase());
    const sw = this.#switches;
    const missing = (table: keyof SimLookups) => sw.lookupsMissing.includes(table);
    const list = (rows: Row[]) =>
      json(200, sw.lookupsPageCap === null ? rows : subListPage(rows, query, sw.lookupsPageCap));
    if (p[1] === "opportunities" && p[2] === "processes" && p.length === 3) {
      return missing("opportunity_processes")
        ? notFound()
        : list(this.lookups.opportunity_processes);
    }
    if (p[1] === "opportunities" && p[2] === "stages" && p.length === 3) {
      return missing("opportunity_stages") ? notFound() : list(this.lookups.opportunity_stages);
    }
    if (p[1] === "history-types" && p.length === 2) {
      return missing("history_types") ? notFound() : list(this.lookups.history_types);
    }
    if (p[1] === "teams") return missing("teams") ? notFound() : this.#teams(p, list);
    if (p[1] === "metadata") return this.#metadata(p);
    return null;
  }

  /**
   * The rows of a lookup or metadata table as a sync stores them (null for other tables): teams
   * with their `members` as the roster sends them; `field_labels` and `picklist_items` without
   * `source_path` and `column_name`, which depend on the destination (types whose metadata is
   * empty have no rows).
   */
  rows(table: TableName): Row[] | null {
    switch (table) {
      case "opportunity_processes":
      case "opportunity_stages":
      case "history_types":
        return structuredClone(this.lookups[table]);
      case "teams":
        return this.lookups.teams.map((team) => ({ ...team, members: this.#members(team) }));
      case "field_labels":
        return this.#answered().flatMap(([type, table, fields]) =>
          fields.map((f) => ({
            id: `${table}/${f.name}`,
            table_name: table,
            entity_type: type,
            field_name: f.name,
            label: f.label,
            act_type: f.type,
            is_custom: f.custom,
            act_column: this.#switches.metadataShape === "alternate" ? null : actColumn(f),
          }))
        );
      case "picklist_items": {
        const alternate = this.#switches.metadataShape === "alternate";
        return this.#answered().flatMap(([type, table, fields]) =>
          fields.filter((f) => f.list).flatMap((f) => {
            const list = LISTS[f.list!];
            return list.items.map((value, i) => ({
              id: `${table}/${f.name}/${value}`,
              table_name: table,
              entity_type: type,
              field_name: f.name,
              list_id: String(list.id),
              list_name: list.name,
              value,
              item_order: alternate ? i + 1 : i,
            }));
          })
        );
      }
      default:
        return null;
    }
  }

  /** The entity types whose metadata answers with fields: type, table, fields. */
  #answered(): [string, string, SimField[]][] {
    return Object.entries(this.fields)
      .filter(([type, fields]) => !this.#switches.metadataEmpty.includes(type) && fields.length)
      .map(([type, fields]) => [type, TYPE_TABLES[type], fields]);
  }

  /** A team's members as its roster sends them (users that exist). */
  #members(team: Row): Row[] {
    const users = new Map(this.#data.users.map((u) => [u.id, u]));
    return ((team.members as string[] | undefined) ?? []).filter((id) => users.has(id)).map((
      id,
    ) => ({ id, displayName: users.get(id)!.name }));
  }

  #teams(p: readonly string[], list: (rows: Row[]) => Response): Response {
    const teams = this.lookups.teams;
    const embed = this.#switches.teamsEmbedMembers;
    const members = (team: Row) => this.#members(team);
    if (p.length === 2) {
      return list(teams.map((team) => {
        const { members: _, ...rest } = team;
        return embed ? { ...rest, members: members(team) } : rest;
      }));
    }
    const team = teams.find((t) => String(t.id).toLowerCase() === p[2]);
    if (!team) return notFound();
    if (p.length === 3) return json(200, team);
    if (p.length === 4 && p[3] === "roster") return json(200, members(team));
    return notFound();
  }

  #metadata(p: readonly string[]): Response {
    const sw = this.#switches;
    const alternate = sw.metadataShape === "alternate";
    const wrap = (rows: unknown[]) =>
      json(200, alternate ? { value: rows, Count: rows.length } : rows);
    if (p.length === 6 && p[2] === "drop-down" && p[3] === "lists" && p[5] === "items") {
      const list = Object.values(LISTS).find((l) => String(l.id) === p[4]);
      return list ? wrap(items(list, alternate)) : notFound();
    }
    if (p.length !== 4 || (p[3] !== "fields" && p[3] !== "picklists")) return notFound();
    const type = p[2];
    const fields = sw.metadataEmpty.includes(type) ? [] : this.fields[type] ?? [];
    if (!this.fields[type] && !KNOWN_TYPES.includes(type)) return notFound();
    if (p[3] === "fields") {
      return wrap(
        fields.map((f) =>
          alternate
            ? { fieldName: f.name, label: f.label, dataType: f.type, isCustom: f.custom }
            : {
              name: f.name,
              displayName: f.label,
              fieldDataType: f.type,
              isCustomField: f.custom,
              columnName: actColumn(f),
              tableName: `TBL_${type.toUpperCase()}`,
            }
        ),
      );
    }
    return wrap(
      fields.filter((f) => f.list).map((f) => {
        const list = LISTS[f.list!];
        return alternate
          ? { listId: list.id, listName: list.name, field: f.name, items: items(list, true) }
          : { id: list.id, name: list.name, fieldName: f.name };
      }),
    );
  }
}

/** Act!'s column of a field, as the Swagger shape sends it. */
function actColumn(f: SimField): string {
  return f.column ?? f.name.toUpperCase().replaceAll(".", "_");
}

/** The table of each entity type that has fields. */
const TYPE_TABLES: Record<string, string> = {
  contact: "contacts",
  company: "companies",
  group: "groups",
  opportunity: "opportunities",
};

/** Entity types the metadata routes know (those without fields answer an empty list). */
const KNOWN_TYPES = ["activity", "history", "note", "user", "task", "product"];

function items(list: Lists[string], alternate: boolean): Row[] {
  return list.items.map((value, i) =>
    alternate ? { name: value, order: i + 1 } : { id: list.id * 100 + i, value, sortOrder: i }
  );
}

function notFound(): Response {
  return json(404, { message: "No HTTP resource was found that matches the request URI." });
}
