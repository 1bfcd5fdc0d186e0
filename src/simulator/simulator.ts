/**
 * The simulator itself: {@linkcode Simulator} answers the Act! Web API's routes (login, the
 * tables, paging and OData options, the switches and injected faults), and
 * {@linkcode startSimulator} serves it on a loopback port.
 *
 * @module
 */
import { createHmac } from "node:crypto";
import { Hono } from "hono";
import { decodeBasic } from "../core/basic.ts";
import { listen, type ListenOptions } from "../core/listen.ts";
import { type BuiltinTableName as TableName, TABLE_NAMES } from "../act/tables.ts";
import { Dataset, defaultCounts, type Row } from "./_data.ts";
import { parseFilter, parseOrderBy, parseSelect, resolverFor } from "./_odata.ts";
import { hash32, Random } from "./_random.ts";
import { listText, text200 } from "./_poison.ts";
import { type Plan, TableStore } from "./_store.ts";
import { groupView, historyDetails, LineItems, lineItemView, subListPage } from "./_reports.ts";
import { checkNotesQuery, CustomEntities, noteView } from "./_custom.ts";
import { SimMetadata } from "./_metadata.ts";
import {
  actErrorBody,
  atobUrl,
  b64url,
  badRow,
  echoCredentials,
  htmlPasswordPage,
  isDataPath,
  json,
  nonNegative,
  notFound,
  oddFields,
  offsetlessDates,
  statusFault,
  systemInfo,
} from "./_responses.ts";
import {
  defaultSwitches,
  type Fault,
  type RequestInfo,
  type SimulatorOptions,
  type SimulatorStats,
  type SimulatorSwitches,
} from "./options.ts";

const ROUTES: Record<string, TableName> = {
  contacts: "contacts",
  companies: "companies",
  opportunities: "opportunities",
  activities: "activities",
  tasks: "activities",
  "activity-types": "activity_types",
  "task-types": "activity_types",
  products: "products",
  history: "history",
  groups: "groups",
  users: "users",
  notes: "notes",
};

const ODATA_OPTIONS = new Set(["$filter", "$orderby", "$top", "$skip", "$select", "$expand"]);

interface Token {
  issued: number;
  requests: number;
  generation: number;
  db: string;
}

type QueuedFault = Fault & { left: number };

/** The simulated Act! Web API server (request → response; no socket of its own). */
export class Simulator {
  /** Switches; mutable at any time. */
  readonly switches: SimulatorSwitches;
  /** Base path of every route. */
  readonly basePath = "/act.web.api";
  /** Request counters. */
  readonly stats: SimulatorStats = {
    requests: 0,
    dataRequests: 0,
    authorizations: 0,
    byStatus: {},
  };
  /** The Hono app's fetch: handles the full URL including the base path. */
  readonly fetch: (request: Request) => Promise<Response>;
  /** Opportunity line items (`/api/opportunities/{id}/products`): read and change them here. */
  readonly lineItems: LineItems;
  /** The custom tables (`/api/custom/entities/{name}`): read and change their rows here. */
  readonly custom: CustomEntities;
  /** Field labels, picklists and the lookup lists (`_metadata.ts`): read and change them here. */
  readonly metadata: SimMetadata;

  #data: Dataset;
  #stores: Record<TableName, TableStore>;
  #username: string;
  #password: string;
  #database: string;
  #now: () => number;
  #secret: string;
  #tokens = new Map<string, Token>();
  #generation = 0;
  #tokenSeq = 0;
  #faults: QueuedFault[] = [];
  #hooks = new Set<(info: RequestInfo) => void>();
  #mutationRng: Random;
  #faultRng: Random | null = null;
  #faultRngSeed: number | undefined;
  #rateWindow = -1;
  #rateCount = 0;
  #pending = new Set<() => void>();

  constructor(options: SimulatorOptions = {}) {
    const records = options.records ?? 200;
    const counts = { ...defaultCounts(records), ...options.counts };
    for (const t of TABLE_NAMES) {
      const c = counts[t];
      if (!Number.isInteger(c) || c < 0 || c > 16_000_000) {
        throw new RangeError(`Invalid count for table '${t}': current value is "${c}"`);
      }
    }
    const seed = options.seed ?? 1;
    this.switches = { ...defaultSwitches(), ...options.switches };
    this.#now = options.now ?? Date.now;
    this.#username = options.username ?? "demo";
    this.#password = options.password ?? "demo";
    this.#database = options.database ?? "ActDemo";
    this.#secret = `act-simulator-${seed}`;
    this.#mutationRng = new Random(hash32(seed, 55));
    this.#data = new Dataset(seed, counts, this.stampClock());
    const stores = {} as Record<TableName, TableStore>;
    for (const t of TABLE_NAMES) {
      const store = new TableStore(t, this.#data);
      if (t === "products") store.view = (row) => this.#productView(row);
      if (t === "groups") store.view = (row) => groupView(row, this.switches.groupsEdited);
      stores[t] = store;
    }
    this.#stores = stores;
    this.lineItems = new LineItems({
      ...{ data: this.#data, rng: this.#mutationRng, stampNow: () => this.#stampNow() },
      ...{ opportunities: stores.opportunities, contacts: stores.contacts, groups: stores.groups },
      bumps: () => this.switches.lineItemsBumpOpportunity,
      editOpportunity: (id, patch) => this.edit("opportunities", id, patch),
    });
    this.custom = new CustomEntities(
      this.#data,
      () => this.switches.customEntities,
      () => this.switches.customMetadata,
    );
    this.metadata = new SimMetadata(this.#data, this.switches);
    const app = new Hono();
    app.all("*", (c) => this.#handle(c.req.raw));
    this.fetch = async (request) => await app.fetch(request);
  }

  /** The server clock (the one that writes the `Date` header), ms. */
  serverNow(): number {
    return this.#now() + this.switches.clockSkewSeconds * 1000;
  }

  /** The clock that stamps `created`/`edited`, ms: the server clock plus `stampSkewSeconds`. */
  stampClock(): number {
    return this.serverNow() + this.switches.stampSkewSeconds * 1000;
  }

  /**
   * Current records of a table, as served, in storage order (builds every row); history with
   * `details` as `format=text` sends them, line items of every opportunity; the lookup and
   * metadata tables as a sync stores them (see `SimMetadata.rows`; `field_labels` also holds the
   * fields of each custom entity whose metadata has been asked, see `CustomEntities.labelRows`).
   */
  rows(table: TableName): Record<string, unknown>[] {
    if (table === "opportunity_products") {
      return this.lineItems.all().map((row) => lineItemView(row, this.switches.lineItemsUpperKey));
    }
    const served = this.metadata.rows(table);
    if (served) return table === "field_labels" ? [...served, ...this.custom.labelRows()] : served;
    const rows = this.#stores[table].all();
    if (table === "notes") {
      return rows.map((row) => noteView(row, "text", this.switches.notesFormat));
    }
    const text = table === "history" && this.switches.historyFormat;
    return text ? rows.map((row) => historyDetails(row, "text", true)) : rows;
  }

  /** One record as served, or undefined. */
  get(table: TableName, id: string): Record<string, unknown> | undefined {
    const row = this.#stores[table].get(id);
    return row ? this.#stores[table].view(structuredClone(row)) : undefined;
  }

  /** Number of live records of a table. */
  count(table: TableName): number {
    if (table === "opportunity_products") return this.lineItems.all().length;
    if (table === "field_labels" || table === "picklist_items") return this.rows(table).length;
    const served = this.metadata.rows(table);
    if (served) return served.length;
    return this.#stores[table].count();
  }

  /** Apply `patch` and bump `edited` (`editDate` for products) to the stamping clock's now. */
  edit(table: TableName, id: string, patch: Record<string, unknown> = {}): Record<string, unknown> {
    const store = this.#stores[table];
    const row = store.get(id);
    if (!row) throw new RangeError(`Cannot edit ${table}: no record with id "${id}"`);
    const next = store.stamp({ ...structuredClone(row), ...patch, id: row.id }, this.#stampNow());
    store.put(String(row.id), next);
    return store.view(structuredClone(next));
  }

  /** Insert a new realistic record (fields of `record` win), stamped now; returns it as served. */
  insert(table: TableName, record: Record<string, unknown> = {}): Record<string, unknown> {
    const store = this.#stores[table];
    const seq = store.nextInsert();
    const now = this.#stampNow();
    let row = this.#data.fresh(table, seq, now, this.#mutationRng);
    if (table === "activity_types") {
      let max = this.#data.counts.activity_types;
      for (const r of store.extra.values()) max = Math.max(max, Number(r.id));
      row.id = max + 1;
    }
    row = { ...row, ...record };
    if (store.get(String(row.id))) {
      throw new RangeError(`Cannot insert into ${table}: id "${row.id}" exists`);
    }
    store.add(row);
    return store.view(structuredClone(row));
  }

  /** Delete a record; false if there was none. */
  remove(table: TableName, id: string): boolean {
    return this.#stores[table].delete(id);
  }

  /**
   * Bulk update: every record gets the same stamp (`at` ms, default the stamping clock's now),
   * forming a tie group.
   */
  touch(table: TableName, ids: readonly string[], at?: number): void {
    const store = this.#stores[table];
    const ms = Math.floor((at ?? this.stampClock()) / 1000) * 1000;
    for (const id of ids) {
      const row = store.get(id);
      if (!row) throw new RangeError(`Cannot touch ${table}: no record with id "${id}"`);
      store.put(id, store.stamp(structuredClone(row), ms));
    }
  }

  /** The id of the i-th generated record (0-based), without building the record. */
  idAt(table: TableName, i: number): string {
    return this.#data.idOf(table, i);
  }

  /** Invalidate every token issued so far. */
  expireTokens(): void {
    this.#generation++;
  }

  /** Queue a fault; queued faults are consumed in order by matching requests. */
  inject(fault: Fault): void {
    this.#faults.push({ ...fault, left: fault.times ?? 1 });
  }

  /** Call `hook` before each data request is answered; returns an unsubscribe function. */
  onRequest(hook: (info: RequestInfo) => void): () => void {
    this.#hooks.add(hook);
    return () => {
      this.#hooks.delete(hook);
    };
  }

  /** End pending delays (latency, slow faults) now, e.g. before a server shuts down. */
  cancelDelays(): void {
    for (const wake of [...this.#pending]) wake();
  }

  #stampNow(): number {
    return Math.floor(this.stampClock() / 1000) * 1000;
  }

  #productView(row: Row): Row {
    if (!this.switches.productsEdited) return row;
    const out: Row = {};
    for (const [k, v] of Object.entries(row)) {
      out[k] = v;
      if (k === "editDate") {
        out.created = row.createDate ?? null;
        out.edited = v;
      }
    }
    return out;
  }

  #sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#pending.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#pending.add(done);
    });
  }

  async #handle(request: Request): Promise<Response> {
    this.stats.requests++;
    let response: Response;
    const rate = this.#rateHeaders();
    await this.#sleep(this.switches.latencyMs);
    if (rate && rate.over) {
      response = json(429, { message: "API calls quota exceeded! maximum admitted per Minute." });
      response.headers.set("Retry-After", String(rate.reset));
    } else {
      response = await this.#route(request);
    }
    if (this.switches.echoCredentials && (response.status === 401 || response.status === 500)) {
      response = echoCredentials(request, response.status);
    }
    if (rate) {
      response.headers.set("X-RateLimit-Limit", String(rate.limit));
      response.headers.set("X-RateLimit-Remaining", String(rate.remaining));
      response.headers.set("X-RateLimit-Reset", String(rate.reset));
    }
    if (this.switches.dateHeader) {
      let date = this.serverNow();
      const jump = this.switches.dateJumpTo;
      if (jump !== null && isDataPath(new URL(request.url).pathname, this.basePath)) {
        date = jump;
        this.switches.dateJumpTo = null;
      }
      response.headers.set("Date", new Date(date).toUTCString());
    }
    this.stats.byStatus[response.status] = (this.stats.byStatus[response.status] ?? 0) + 1;
    return response;
  }

  #rateHeaders(): { limit: number; remaining: number; reset: number; over: boolean } | null {
    const rl = this.switches.rateLimit;
    if (!rl) return null;
    const now = this.serverNow();
    const window = Math.floor(now / 60_000);
    if (window !== this.#rateWindow) {
      this.#rateWindow = window;
      this.#rateCount = 0;
    }
    this.#rateCount++;
    return {
      limit: rl.limit,
      remaining: Math.max(0, rl.limit - this.#rateCount),
      reset: Math.max(1, Math.ceil(((window + 1) * 60_000 - now) / 1000)),
      over: this.#rateCount > rl.limit,
    };
  }

  async #route(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const lowerPath = url.pathname.toLowerCase();
    if (!lowerPath.startsWith(this.basePath + "/") && lowerPath !== this.basePath) {
      return notFound(url);
    }
    const path = url.pathname.slice(this.basePath.length).replace(/\/+$/, "") || "/";
    const lower = path.toLowerCase();
    const isData = lower.startsWith("/api/") && lower !== "/api/system";
    let n = 0;
    if (isData) {
      n = ++this.stats.dataRequests;
      for (const hook of [...this.#hooks]) {
        hook({ method: request.method, path, query: url.searchParams, n });
      }
    }
    const fault = this.#takeFault(lower, isData);
    if (fault) {
      const early = await this.#applyFault(fault);
      if (early) return early;
    }
    let response: Response;
    if (request.method !== "GET" && request.method !== "HEAD") {
      response = json(405, {
        message: `The requested resource does not support http method '${request.method}'.`,
      });
    } else if (lower === "/authorize") {
      response = this.#authorize(request);
    } else if (
      lower.endsWith("/$metadata") || lower === "/swagger" || lower.startsWith("/swagger/")
    ) {
      response = this.switches.docsForbidden
        ? json(403, { message: "Access to this resource is forbidden." })
        : json(200, { note: "The simulator does not describe itself" });
    } else if (lower === "/api/system") {
      response = systemInfo(this.switches.systemSpelling);
    } else if (isData && this.switches.actError) {
      response = actErrorBody(this.switches.actError.code, this.switches.actError.status);
    } else if (isData && this.switches.htmlPasswordBody) {
      response = htmlPasswordPage(this.#password);
    } else if (isData) {
      response = this.#data200(request, url, path, n);
    } else {
      response = notFound(url);
    }
    if (
      fault &&
      (fault.kind === "truncated" || fault.kind === "object" || fault.kind === "bad-row") &&
      response.status === 200
    ) {
      const text = await response.text();
      if (fault.kind === "bad-row") return badRow(text);
      if (fault.kind === "truncated") {
        return new Response(text.slice(0, Math.max(1, Math.floor(text.length / 2))), {
          status: 200,
          headers: { "content-type": "application/json; charset=utf-8" },
        });
      }
      let rows: unknown[] = [];
      try {
        const parsed = JSON.parse(text);
        rows = Array.isArray(parsed) ? parsed : parsed.value ?? [];
      } catch {
        // A poisoned record in the page (not JSON): the wrong envelope, without the rows.
      }
      return json(200, { items: rows, Count: rows.length });
    }
    return response;
  }

  #takeFault(lower: string, isData: boolean): Fault | null {
    for (let i = 0; i < this.#faults.length; i++) {
      const f = this.#faults[i];
      const fpath = "path" in f && f.path ? f.path.toLowerCase().replace(/\/+$/, "") : null;
      const match = fpath ? lower.startsWith(fpath) : isData;
      if (!match) continue;
      if (--f.left <= 0) this.#faults.splice(i, 1);
      return f;
    }
    const rf = this.switches.randomFaults;
    if (!rf || !isData || rf.kinds.length === 0) return null;
    if (!this.#faultRng || this.#faultRngSeed !== rf.seed) {
      this.#faultRngSeed = rf.seed;
      this.#faultRng = new Random(hash32(rf.seed ?? this.#data.seed, 66));
    }
    const r = this.#faultRng;
    if (r.next() >= rf.rate) return null;
    const kind = r.pick(rf.kinds);
    switch (kind) {
      case "status":
        return { kind, status: r.pick([500, 502, 503, 504]) };
      case "rate-limit":
        return { kind, retryAfter: r.pick(["seconds", "date"] as const), seconds: 1 };
      case "slow":
        return { kind, ms: 1000 };
      default:
        return { kind };
    }
  }

  async #applyFault(fault: Fault): Promise<Response | null> {
    switch (fault.kind) {
      case "status":
        return statusFault(fault.status, fault.body);
      case "rate-limit": {
        const response = json(429, { message: "Too many requests" });
        const seconds = fault.seconds ?? 1;
        if (fault.retryAfter === "seconds") response.headers.set("Retry-After", String(seconds));
        if (fault.retryAfter === "date") {
          response.headers.set(
            "Retry-After",
            new Date(this.serverNow() + seconds * 1000).toUTCString(),
          );
        }
        return response;
      }
      case "malformed":
        return new Response(`{"value":[{"id":'x', "edited": 2024-01-01T00:00:00+00:00,}`, {
          status: 200,
          headers: { "content-type": "application/json; charset=utf-8" },
        });
      case "html":
        return new Response(
          "<!DOCTYPE html>\r\n<html><head><title>Act! - Sign In</title></head><body><form>Please sign in</form></body></html>",
          { status: 200, headers: { "content-type": "text/html; charset=utf-8" } },
        );
      case "slow":
        await this.#sleep(fault.ms);
        return null;
      case "drop": {
        // Send the head and a first chunk, then fail the stream a moment later: the client has
        // a response by then, so no runtime retries it silently on a fresh connection (Bun does
        // when a reused connection closes before any response byte).
        const enc = new TextEncoder();
        let sent = false;
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (!sent) {
              sent = true;
              controller.enqueue(enc.encode('{"value":[{"id":"'));
              return;
            }
            await new Promise((resolve) => setTimeout(resolve, 20));
            controller.error(new Error("Simulated connection drop"));
          },
        });
        return new Response(body, {
          status: 200,
          headers: { "content-type": "application/json; charset=utf-8" },
        });
      }
      case "expire-token":
        this.expireTokens();
        return null;
      default:
        return null; // truncated, object and bad-row transform the normal answer
    }
  }

  #issue(db: string, username: string): string {
    const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
    const issued = this.serverNow();
    const payload = b64url(JSON.stringify({
      db,
      un: username,
      id: this.#data.users[0].id,
      iat: new Date(issued).toISOString(),
      jti: String(++this.#tokenSeq),
    }));
    const sig = createHmac("sha256", this.#secret).update(`${header}.${payload}`).digest(
      "base64url",
    );
    const token = `${header}.${payload}.${sig}`;
    this.#tokens.set(token, { issued, requests: 0, generation: this.#generation, db });
    this.stats.authorizations++;
    return token;
  }

  #valid(token: string): Token | null {
    const t = this.#tokens.get(token);
    if (!t || t.generation !== this.#generation) return null;
    const life = this.switches.tokenLifetimeSeconds;
    if (life !== null && this.serverNow() - t.issued >= life * 1000) return null;
    const max = this.switches.tokenMaxRequests;
    if (max !== null && t.requests >= max) return null;
    return t;
  }

  #authorize(request: Request): Response {
    const auth = request.headers.get("authorization") ?? "";
    const db = request.headers.get("act-database-name") ?? "";
    const text = (token: string): Response =>
      new Response(token, { status: 200, headers: { "content-type": "text/html; charset=utf-8" } });
    const bearer = /^Bearer\s+(\S+)$/i.exec(auth);
    if (bearer) {
      const t = this.#valid(bearer[1]);
      if (!t) return new Response(null, { status: 401 });
      const claims = JSON.parse(atobUrl(bearer[1].split(".")[1]));
      return text(this.#issue(t.db, claims.un));
    }
    const basic = /^Basic\s+(\S+)$/i.exec(auth);
    if (!basic) return new Response(null, { status: 401 });
    const credentials = decodeBasic(basic[1]);
    if (!credentials) return new Response(null, { status: 401 });
    const user = credentials.username;
    const pass = credentials.password ?? "";
    if (
      user.normalize().toLowerCase() !== this.#username.normalize().toLowerCase() ||
      pass !== this.#password || db.toLowerCase() !== this.#database.toLowerCase()
    ) {
      return new Response(null, { status: 401 });
    }
    return text(this.#issue(this.#database, user));
  }

  #data200(request: Request, url: URL, path: string, _n: number): Response {
    const auth = request.headers.get("authorization");
    const db = request.headers.get("act-database-name");
    if (!auth || !db) {
      return json(500, {
        message: "An error has occurred.",
        exceptionMessage: "Object reference not set to an instance of an object.",
        exceptionType: "System.NullReferenceException",
        stackTrace:
          "   at Act.Web.Api.Filters.ActAuthorizeAttribute.OnAuthorization(HttpActionContext actionContext)",
      });
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(auth);
    const token = bearer ? this.#valid(bearer[1]) : null;
    if (!token || token.db.toLowerCase() !== db.toLowerCase()) {
      return json(401, { message: "Authorization has been denied for this request." });
    }
    token.requests++;
    const parts = path.split("/").filter(Boolean); // ["api", resource, id?]
    const resource = parts[1]?.toLowerCase() ?? "";
    const custom = this.custom.route(parts);
    if (custom && !("store" in custom)) {
      return "list" in custom ? json(200, custom.list) : notFound(url);
    }
    const table = custom ? custom.store.table : ROUTES[resource];
    const meta = custom ? null : this.metadata.route(parts, url.searchParams);
    if (meta) return meta;
    const sub = this.lineItems.route(parts);
    const poison = this.switches.poison;
    if (sub && sub.status === 404) return notFound(url);
    if (sub && resource === "opportunities") {
      const cap = this.switches.subListCap;
      const items = sub.rows.map((row) => lineItemView(row, this.switches.lineItemsUpperKey));
      const page = cap === null ? items : subListPage(items, url.searchParams, cap);
      return text200(listText(page, "array", poison));
    }
    if (sub) return text200(listText(sub.rows, "array", poison));
    if (
      !table || (parts.length > 3 && !custom) ||
      (resource === "activity-types" && !this.switches.activityTypes)
    ) {
      return notFound(url);
    }
    const store = custom ? custom.store : this.#stores[table];
    if (parts.length === 3 && !custom) {
      const row = store.get(decodeURIComponent(parts[2]));
      return row ? json(200, store.view(row)) : notFound(url);
    }
    let plan: Plan;
    let select: string[] | null = null;
    try {
      const q = url.searchParams;
      // Users ignoring OData (a switch): every option is ignored, every user returned.
      const ignored = table === "users" && !this.switches.usersOdata ? "$" : "";
      for (const key of q.keys()) {
        if (key.startsWith("$") && !ODATA_OPTIONS.has(key) && !ignored) {
          throw new SyntaxError(`The query parameter '${key}' is not supported`);
        }
      }
      if (table === "notes") checkNotesQuery(q, this.switches.notesOdata);
      const n = this.#data.counts[table] ?? 0;
      const sample = store.view(
        // An empty table still has its shape: a generated record stands in for the schema.
        n > 0 ? this.#data.record(table, 0) : store.extra.values().next().value ??
          this.#data.fresh(table, 0, this.serverNow(), new Random(1)),
      );
      const resolve = resolverFor(sample);
      const filterText = q.get(`${ignored}$filter`);
      if (filterText !== null && table === "products" && !this.switches.productsFilter) {
        throw new SyntaxError("The query parameter '$filter' is not supported on this resource");
      }
      if (filterText !== null && !this.switches.neFilter && /\sne\s/i.test(filterText)) {
        throw new SyntaxError("The operator 'ne' is not supported in $filter");
      }
      const filter = filterText === null ? null : parseFilter(filterText, resolve);
      const orderText = q.get(`${ignored}$orderby`);
      const orderBy = orderText === null ? [] : parseOrderBy(orderText, resolve);
      if (orderBy.length > 1 && !this.switches.multiKeyOrderBy) {
        throw new SyntaxError("Only one $orderby property is supported");
      }
      const top = ignored ? Infinity : nonNegative(q.get("$top"), "$top");
      const skipped = nonNegative(q.get(`${ignored}$skip`), "$skip") ?? 0;
      const skip = this.switches.ignoreSkip ? 0 : skipped;
      const selText = q.get(`${ignored}$select`);
      select = selText === null ? null : parseSelect(selText, resolve);
      const sw = this.switches;
      const take = ignored ? Infinity : Math.min(top ?? sw.defaultPageSize, sw.pageCap ?? Infinity);
      plan = {
        filter,
        orderBy,
        skip,
        take,
        shuffleSeed: sw.unstableOrder ? hash32(this.#data.seed, this.stats.requests, 31) : null,
      };
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      return json(400, {
        message: `The query specified in the URI is not valid. ${error.message}`,
        exceptionMessage: error.message,
        exceptionType: "Microsoft.OData.ODataException",
        stackTrace:
          "   at System.Web.OData.Query.ODataQueryOptions.Validate(ODataValidationSettings validationSettings)",
      });
    }
    let rows = store.query(plan);
    const format = url.searchParams.get("format");
    if (table === "history") {
      rows = rows.map((row) => historyDetails(row, format, this.switches.historyFormat));
    }
    if (table === "notes") {
      rows = rows.map((row) => noteView(row, format, this.switches.notesFormat));
    }
    if (select) {
      const keys = select.includes("id") ? select : ["id", ...select];
      rows = rows.map((row) => Object.fromEntries(keys.map((k) => [k, row[k] ?? null])));
    }
    if (this.switches.oddFields) rows = rows.map((row) => ({ ...row, ...oddFields(row.id) }));
    const envelope = this.switches.envelope[table] ??
      (table === "contacts" || table === "companies" ? "value" : "array");
    let text = listText(rows, envelope, poison);
    if (this.switches.oddFields) text = text.replace(/"\\u0000raw:([^"]*)"/g, "$1");
    if (this.switches.offsetlessDates) text = offsetlessDates(text, this.switches.dateShape);
    return text200(text);
  }

  /** Serve a poisoned record normally again (see the `poison` switch). */
  heal(id: string): void {
    delete this.switches.poison[id];
  }
}

/** A simulator serving on a socket. */
export interface RunningSimulator {
  /** The simulator (switches, mutations, faults, stats). */
  sim: Simulator;
  /** Base URL, e.g. `http://127.0.0.1:PORT/act.web.api`. */
  url: string;
  /** The bound port. */
  port: number;
  /** Stop the server (pending delays end at once). */
  close(): Promise<void>;
}

/** Start a simulator on a socket (127.0.0.1, a free port unless given). */
export async function startSimulator(
  options: SimulatorOptions & ListenOptions = {},
): Promise<RunningSimulator> {
  const sim = new Simulator(options);
  const listener = await listen((request) => sim.fetch(request), {
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    cert: options.cert,
    key: options.key,
  });
  const scheme = options.cert && options.key ? "https" : "http";
  const host = listener.hostname.includes(":") ? `[${listener.hostname}]` : listener.hostname;
  return {
    sim,
    url: `${scheme}://${host}:${listener.port}${sim.basePath}`,
    port: listener.port,
    close: async () => {
      sim.cancelDelays();
      await listener.close();
    },
  };
}
