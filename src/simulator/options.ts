/**
 * The simulator's options: data size and seed, credentials, the switches for every uncertain
 * point of the real server, and the faults it can inject.
 *
 * @module
 */
import type { BuiltinTableName as TableName } from "../act/tables.ts";
import type { PoisonKind } from "./_poison.ts";

/** Options for {@linkcode Simulator}. */
export interface SimulatorOptions {
  /** Number of contacts; other tables scale from it (see the module doc). @default {200} */
  records?: number;
  /** Explicit per-table counts; they win over `records`. */
  counts?: Partial<Record<TableName, number>>;
  /** Seed of all generated data. @default {1} */
  seed?: number;
  /** Act! display name accepted by /authorize. @default {"demo"} */
  username?: string;
  /** Password accepted by /authorize. @default {"demo"} */
  password?: string;
  /** Database name expected in `Act-Database-Name`. @default {"ActDemo"} */
  database?: string;
  /** Quirk and fault switches (see {@linkcode SimulatorSwitches}). */
  switches?: Partial<SimulatorSwitches>;
  /** Host clock in ms; the server clock is `now() + clockSkewSeconds`. @default {Date.now} */
  now?: () => number;
}

/** The uncertain points of the real API, as switches; all mutable at any time. */
export interface SimulatorSwitches {
  /** Per table: `{"value":[…],"Count":n}` or a bare array. @default {contacts, companies: "value"; others "array"} */
  envelope: Partial<Record<TableName, "value" | "array">>;
  /** Max rows per response whatever `$top` says. @default {null} */
  pageCap: number | null;
  /** Rows when no `$top` is given. @default {1000} */
  defaultPageSize: number;
  /** Accept more than one `$orderby` key (else 400). @default {false} */
  multiKeyOrderBy: boolean;
  /** Rows with equal sort keys come back in a new seeded order on every request. @default {true} */
  unstableOrder: boolean;
  /** `/api/activity-types` exists (else 404; `/api/task-types` always works). @default {false} */
  activityTypes: boolean;
  /** Products also carry `created`/`edited`. @default {false} */
  productsEdited: boolean;
  /** Date-times go out without an offset (`2024-06-01T00:00:03`, meant as UTC). @default {false} */
  offsetlessDates: boolean;
  /**
   * With `offsetlessDates`, how the date-times are written: ISO (`2024-06-01T00:00:03`), with a
   * space (`2024-06-01 00:00:03`), with a lowercase `t`, with a 10-digit fraction
   * (`2024-06-01T00:00:03.0000000000`), or each of these in turn. @default {"iso"}
   */
  dateShape: DateShape;
  /**
   * How `/api/system` spells its keys: `apiVersion` (`camel`), `APIVersion` (`pascal`), or an
   * empty object (`empty`). @default {"camel"}
   */
  systemSpelling: "camel" | "pascal" | "empty";
  /**
   * A proxy's login page: every data request answers 200 with an HTML page that carries the
   * password, raw and in its percent, HTML-entity and JSON-escape spellings, past its first 200
   * characters. @default {false}
   */
  htmlPasswordBody: boolean;
  /**
   * Every data request answers `status` with an Act! error body holding `code` (4031: no
   * subscription, 4032: no API permission). @default {null}
   */
  actError: { code: 4031 | 4032; status: number } | null;
  /** Records also carry colliding/odd field names and extreme values ({@linkcode oddFields}). @default {false} */
  oddFields: boolean;
  /** `$filter` works on `/api/products` (else 400). @default {true} */
  productsFilter: boolean;
  /** `ne` works in `$filter` (else 400, as for any unsupported OData). @default {true} */
  neFilter: boolean;
  /** Groups carry `created`/`edited` (else `$filter` on `edited` answers 400). @default {true} */
  groupsEdited: boolean;
  /**
   * `/api/users` honours OData options (`$top`, `$skip`, `$orderby`, `$filter`); else it ignores
   * them all and returns every user ("no OData documented"). @default {false}
   */
  usersOdata: boolean;
  /** `/api/history` sends `details` in the form `format=text|html|rtf|auto` asks for (else as stored, HTML). @default {true} */
  historyFormat: boolean;
  /** Adding, editing or removing a line item bumps its opportunity's `edited`. @default {true} */
  lineItemsBumpOpportunity: boolean;
  /**
   * `/api/opportunities/{id}/products` answers at most this many line items per request and
   * honours `$top`, `$skip` and `$orderby=id` (a server with a page size); null: it ignores
   * every option and sends every item. @default {null}
   */
  subListCap: number | null;
  /** Line items carry their opportunity's id as `OpportunityID` instead of `opportunityID`. @default {false} */
  lineItemsUpperKey: boolean;
  /** Token lifetime in seconds; null = never expires. @default {3900} */
  tokenLifetimeSeconds: number | null;
  /** A token expires after this many data requests. @default {null} */
  tokenMaxRequests: number | null;
  /** Server clock minus host clock, seconds. @default {0} */
  clockSkewSeconds: number;
  /**
   * The clock that stamps `created`/`edited` (SQL Server, the Act! desktop clients) minus the
   * server clock that writes the `Date` header, seconds. @default {0}
   */
  stampSkewSeconds: number;
  /**
   * The `Date` header of the next data response says this time (ms since the epoch) instead of
   * the server clock, once (a misconfigured proxy, a clock corrected after a jump); the switch
   * then resets itself to null. @default {null}
   */
  dateJumpTo: number | null;
  /** Send the `Date` header from the server clock. @default {true} */
  dateHeader: boolean;
  /** Delay before every answer, ms. @default {0} */
  latencyMs: number;
  /** Send X-RateLimit-* headers per minute window; 429 beyond the limit. @default {null} */
  rateLimit: { limit: number } | null;
  /** A broken server or proxy that ignores `$skip` (every offset returns the first page). @default {false} */
  ignoreSkip: boolean;
  /**
   * A careless server: every 401 and 500 body echoes what the request sent (the `Authorization`
   * header, the Basic credentials decoded, the password, also JSON-escaped). @default {false}
   */
  echoCredentials: boolean;
  /**
   * Entity types whose `/api/metadata/{type}/fields` and `…/picklists` answer an empty list, as
   * Premium Cloud does for these. @default {["activity", "history", "note", "user", "task"]}
   */
  metadataEmpty: string[];
  /**
   * The shape of the metadata answers (see `_metadata.ts`): the Swagger copy's names, or other
   * plausible names in `{"value": […]}` with picklist items embedded. @default {"swagger"}
   */
  metadataShape: "swagger" | "alternate";
  /** `$metadata` and `/swagger` answer 403, as on the cloud host (else a small 200). @default {false} */
  docsForbidden: boolean;
  /** Lookup tables whose endpoints answer 404 (`teams`: the roster too). @default {[]} */
  lookupsMissing: TableName[];
  /**
   * The lookup lists (processes, stages, history types, teams) answer at most this many rows
   * per request and honour `$top`, `$skip` and `$orderby=id` (a server with a page size); null:
   * they ignore every option and send the whole list. @default {null}
   */
  lookupsPageCap: number | null;
  /** `/api/teams` embeds each team's `members` (else only `/api/teams/{id}/roster` has them). @default {false} */
  teamsEmbedMembers: boolean;
  /** Each data request faults with this probability, kind drawn from `kinds`. @default {null} */
  randomFaults: { rate: number; kinds: FaultKind[]; seed?: number } | null;
  /**
   * `/api/notes` honours `$filter`/`$orderby`/`$select` (else each answers 400, "not
   * supported on this resource", while `$top`/`$skip` still page). @default {true}
   */
  notesOdata: boolean;
  /** `/api/notes` sends `noteText` in the form `format=text|html|rtf` asks for (else HTML). @default {true} */
  notesFormat: boolean;
  /**
   * The custom tables `/api/metadata/entities` lists, by Act! entity name; change it between
   * runs to add or remove one (a removed entity's rows come back if it is listed again). Known
   * names get realistic generated rows ({@linkcode CUSTOM_ENTITY_KINDS}), others a generic kind.
   * @default {["Projects", "Équipement Rentals & Service"]}
   */
  customEntities: string[];
  /**
   * `/api/metadata/{name}/fields` (and `…/picklists`) answer for each custom entity `name` (else
   * 404: where Act! keeps a custom table's labels is not confirmed). @default {true}
   */
  customMetadata: boolean;
  /**
   * Records served poisoned, by id (any table): see `PoisonKind`; delete an entry (or
   * `Simulator.heal`) to serve the record normally again. @default {{}}
   */
  poison: Record<string, PoisonKind>;
}

/** The custom entities a simulator serves by default: a plain name and an awkward one. */
export const DEFAULT_CUSTOM_ENTITIES: readonly string[] = [
  "Projects",
  "Équipement Rentals & Service",
];

/** A third entity the tests add between runs. */
export const EXTRA_CUSTOM_ENTITY = "Site Inspections";

/** The generated kinds of custom entity rows, by entity name (others are "generic"). */
export const CUSTOM_ENTITY_KINDS: Readonly<Record<string, "project" | "rental" | "inspection">> = {
  [DEFAULT_CUSTOM_ENTITIES[0]]: "project",
  [DEFAULT_CUSTOM_ENTITIES[1]]: "rental",
  [EXTRA_CUSTOM_ENTITY]: "inspection",
};

/** The shapes of {@linkcode SimulatorSwitches.dateShape}. */
export type DateShape = "iso" | "space" | "lowercase" | "long-fraction" | "mixed";

/** Kinds of {@linkcode Fault}. */
export type FaultKind =
  | "status"
  | "rate-limit"
  | "malformed"
  | "truncated"
  | "html"
  | "object"
  | "slow"
  | "drop"
  | "bad-row"
  | "expire-token";

/**
 * A fault for the next matching request(s). `times` defaults to 1; `path` is a case-insensitive
 * prefix of the request path after the base (e.g. `/api/contacts`); without `path` a fault
 * applies to data requests (`/api/…` except `/api/system`).
 */
export type Fault =
  | { kind: "status"; status: number; body?: string; times?: number; path?: string }
  | {
    kind: "rate-limit";
    retryAfter: "seconds" | "date" | "none";
    seconds?: number;
    times?: number;
    path?: string;
  }
  | {
    /**
     * `bad-row`: the normal answer with its middle row made invalid JSON that still balances
     * (`{"id":x"bad"}`), so only parsing that row finds it.
     */
    kind: "malformed" | "truncated" | "html" | "object" | "bad-row";
    times?: number;
    path?: string;
  }
  | { kind: "slow"; ms: number; times?: number; path?: string }
  | { kind: "drop"; times?: number; path?: string }
  | { kind: "expire-token"; times?: number };

/** What {@linkcode Simulator.onRequest} hooks receive. */
export interface RequestInfo {
  method: string;
  /** Path after the base, as requested (e.g. `/api/contacts`). */
  path: string;
  query: URLSearchParams;
  /** Number of this data request (1-based). */
  n: number;
}

/** Counters of a simulator. */
export interface SimulatorStats {
  requests: number;
  dataRequests: number;
  authorizations: number;
  byStatus: Record<number, number>;
}

/** Default switches. */
export function defaultSwitches(): SimulatorSwitches {
  return {
    envelope: { contacts: "value", companies: "value" },
    pageCap: null,
    defaultPageSize: 1000,
    multiKeyOrderBy: false,
    unstableOrder: true,
    activityTypes: false,
    productsEdited: false,
    offsetlessDates: false,
    dateShape: "iso",
    systemSpelling: "camel",
    htmlPasswordBody: false,
    actError: null,
    oddFields: false,
    productsFilter: true,
    neFilter: true,
    groupsEdited: true,
    usersOdata: false,
    historyFormat: true,
    lineItemsBumpOpportunity: true,
    subListCap: null,
    lineItemsUpperKey: false,
    tokenLifetimeSeconds: 3900,
    tokenMaxRequests: null,
    clockSkewSeconds: 0,
    stampSkewSeconds: 0,
    dateJumpTo: null,
    dateHeader: true,
    latencyMs: 0,
    rateLimit: null,
    ignoreSkip: false,
    echoCredentials: false,
    metadataEmpty: ["activity", "history", "note", "user", "task"],
    metadataShape: "swagger",
    docsForbidden: false,
    lookupsMissing: [],
    lookupsPageCap: null,
    teamsEmbedMembers: false,
    randomFaults: null,
    notesOdata: true,
    notesFormat: true,
    customEntities: [...DEFAULT_CUSTOM_ENTITIES],
    customMetadata: true,
    poison: {},
  };
}
