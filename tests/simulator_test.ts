import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Simulator, type SimulatorOptions, startSimulator } from "../src/simulator/mod.ts";

const BASE = "http://sim.test/act.web.api";

function basic(user: string, pass: string): string {
  const bytes = new TextEncoder().encode(`${user}:${pass}`);
  return "Basic " + btoa(String.fromCharCode(...bytes));
}

async function authorize(
  sim: Simulator,
  user = "demo",
  pass = "demo",
  db = "ActDemo",
): Promise<Response> {
  return await sim.fetch(
    new Request(`${BASE}/authorize`, {
      headers: { authorization: basic(user, pass), "act-database-name": db },
    }),
  );
}

/** A simulator plus a logged-in `get(pathAndQuery)` helper. */
async function setup(options: SimulatorOptions = {}): Promise<{
  sim: Simulator;
  token: string;
  get: (path: string) => Promise<Response>;
  rows: (path: string) => Promise<Record<string, unknown>[]>;
}> {
  const sim = new Simulator(options);
  const token = await (await authorize(sim)).text();
  const get = (path: string): Promise<Response> =>
    sim.fetch(
      new Request(`${BASE}${path}`, {
        headers: { authorization: `Bearer ${token}`, "act-database-name": "ActDemo" },
      }),
    );
  const rows = async (path: string): Promise<Record<string, unknown>[]> => {
    const res = await get(path);
    assert.equal(res.status, 200, `${path}: ${res.status}`);
    const body = await res.json();
    return Array.isArray(body) ? body : body.value;
  };
  return { sim, token, get, rows };
}

function f(filter: string): string {
  return encodeURIComponent(filter);
}

describe("authorize", () => {
  test("Basic with the right credentials returns a bare JWT as text/html", async () => {
    const sim = new Simulator();
    const res = await authorize(sim);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    const token = await res.text();
    const parts = token.split(".");
    assert.equal(parts.length, 3);
    const claims = JSON.parse(atob(parts[1].replace(/-/g, "+").replace(/_/g, "/")));
    assert.equal(claims.db, "ActDemo");
    assert.equal(claims.un, "demo");
    assert.equal(claims.exp, undefined);
    assert.ok(!Number.isNaN(Date.parse(claims.iat)));
    assert.equal(sim.stats.authorizations, 1);
  });

  test("wrong password, user or database gives 401 with an empty body", async () => {
    const sim = new Simulator();
    for (
      const [u, p, d] of [["demo", "x", "ActDemo"], ["x", "demo", "ActDemo"], [
        "demo",
        "demo",
        "Nope",
      ]]
    ) {
      const res = await authorize(sim, u, p, d);
      assert.equal(res.status, 401);
      assert.equal(await res.text(), "");
    }
  });

  test("a UTF-8 display name with spaces is accepted", async () => {
    const sim = new Simulator({ username: "Jürgen Müller", password: "pä ss" });
    assert.equal((await authorize(sim, "Jürgen Müller", "pä ss")).status, 200);
  });

  test("a valid Bearer token renews; an expired one is refused", async () => {
    let now = Date.UTC(2025, 0, 1);
    const sim = new Simulator({ now: () => now, switches: { tokenLifetimeSeconds: 60 } });
    const first = await (await authorize(sim)).text();
    const renew = (t: string): Promise<Response> =>
      sim.fetch(
        new Request(`${BASE}/authorize`, {
          headers: { authorization: `Bearer ${t}`, "act-database-name": "ActDemo" },
        }),
      );
    const res = await renew(first);
    assert.equal(res.status, 200);
    const second = await res.text();
    assert.notEqual(second, first);
    now += 61_000;
    assert.equal((await renew(second)).status, 401);
  });
});

describe("data calls", () => {
  test("no credentials gives 500 NullReferenceException; bad token gives 401", async () => {
    const sim = new Simulator();
    const none = await sim.fetch(new Request(`${BASE}/api/contacts`));
    assert.equal(none.status, 500);
    assert.equal((await none.json()).exceptionType, "System.NullReferenceException");
    const bad = await sim.fetch(
      new Request(`${BASE}/api/contacts`, {
        headers: { authorization: "Bearer abc.def.ghi", "act-database-name": "ActDemo" },
      }),
    );
    assert.equal(bad.status, 401);
    assert.deepEqual(await bad.json(), {
      message: "Authorization has been denied for this request.",
    });
  });

  test("/api/system needs no login", async () => {
    const sim = new Simulator();
    const res = await sim.fetch(new Request(`${BASE}/api/system`));
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.ok(body.apiVersion && body.sdkVersion && body.culture);
  });

  test("paths are case-insensitive; unknown routes 404 ASP.NET-style", async () => {
    const { get } = await setup({ records: 10 });
    assert.equal((await get("/API/Contacts?$top=1")).status, 200);
    const res = await get("/api/nothing");
    assert.equal(res.status, 404);
    assert.match((await res.json()).message, /No HTTP resource was found/);
  });

  test("envelopes: contacts and companies in value/Count, others bare; switchable", async () => {
    const { sim, get } = await setup({ records: 20 });
    const c = await (await get("/api/contacts?$top=3")).json();
    assert.equal(c.value.length, 3);
    assert.equal(c.Count, 3);
    assert.ok(Array.isArray(await (await get("/api/opportunities?$top=2")).json()));
    sim.switches.envelope = { contacts: "array", opportunities: "value" };
    assert.ok(Array.isArray(await (await get("/api/contacts?$top=2")).json()));
    assert.equal((await (await get("/api/opportunities?$top=2")).json()).Count, 2);
  });

  test("activity-types is 404 unless switched on; task-types always works", async () => {
    const { sim, get, rows } = await setup({ records: 10 });
    assert.equal((await get("/api/activity-types")).status, 404);
    const types = await rows("/api/task-types");
    assert.equal(types.length, 12);
    assert.equal(typeof types[0].id, "number");
    assert.equal(types[0].edited, undefined);
    sim.switches.activityTypes = true;
    assert.equal((await rows("/api/activity-types")).length, 12);
  });

  test("history-types is a bare array matching history rows and activity types", async () => {
    const { get, rows } = await setup({ records: 40 });
    const response = await get("/api/History-Types");
    assert.equal(response.status, 200);
    const types = await response.json();
    assert.ok(Array.isArray(types) && types.length > 12, JSON.stringify(types).slice(0, 200));
    for (const t of types) {
      assert.deepEqual(Object.keys(t).sort(), [
        "activityTypeId",
        "activityTypeName",
        "description",
        "id",
        "name",
      ]);
      assert.equal(typeof t.id, "number");
    }
    const byId = new Map(types.map((t: { id: number }) => [t.id, t]));
    assert.equal(byId.size, types.length);
    const history = await rows("/api/history?$top=1000");
    assert.equal(history.length, 120);
    for (const h of history) {
      assert.deepEqual(byId.get(h.historyTypeID as number), h.historyType, String(h.id));
    }
    const activityTypes = await rows("/api/task-types");
    for (const at of activityTypes) {
      for (const ht of at.historyTypes as { id: number; name: string }[]) {
        const t = byId.get(ht.id) as Record<string, unknown>;
        assert.deepEqual([t.name, t.activityTypeId, t.activityTypeName], [ht.name, at.id, at.name]);
      }
    }
  });

  test("products: editDate always, created/edited only with the switch; filter switch", async () => {
    const { sim, get, rows } = await setup({ records: 100 });
    const [p] = await rows("/api/products?$top=1");
    assert.ok(p.editDate && p.createDate);
    assert.equal(p.edited, undefined);
    assert.equal((await get(`/api/products?$filter=${f("edited ge 2000-01-01")}`)).status, 400);
    assert.equal((await rows(`/api/products?$filter=${f("editdate ge 2000-01-01")}`)).length, 55);
    sim.switches.productsEdited = true;
    const [q] = await rows("/api/products?$top=1");
    assert.equal(q.edited, q.editDate);
    assert.equal(q.created, q.createDate);
    assert.equal((await rows(`/api/products?$filter=${f("edited ge 2000-01-01")}`)).length, 55);
    sim.switches.productsFilter = false;
    assert.equal((await get(`/api/products?$filter=${f("editdate ge 2000-01-01")}`)).status, 400);
    assert.equal((await get("/api/products?$top=5")).status, 200);
  });

  test("record shapes follow the documented fields", async () => {
    const { rows } = await setup({ records: 50 });
    const [c] = await rows("/api/contacts?$top=1");
    assert.match(
      String(c.id),
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    assert.match(String(c.edited), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    assert.ok(Object.keys(c).length >= 60);
    assert.deepEqual(
      Object.keys(c.homeAddress as object),
      [
        "line1",
        "line2",
        "line3",
        "city",
        "state",
        "postalCode",
        "country",
        "latitude",
        "longitude",
      ],
    );
    assert.ok("user10" in (c.customFields as object));
    assert.equal(typeof c.businessPhoneCountryCode, "number");
    const opps = await rows("/api/opportunities?$top=50");
    for (const o of opps) {
      assert.equal(typeof o.status, "number");
      if (o.status === 0) assert.equal(o.actualCloseDate, "9999-12-31T00:00:00+00:00");
      assert.deepEqual((o.stage as { process: { stages: unknown[] } }).process.stages, []);
    }
    const acts = await rows("/api/activities?$top=20");
    for (const a of acts) {
      assert.match(String(a.id), /^[0-9a-f-]{36}\d{8}$/);
      assert.equal(String(a.id).slice(0, 36), a.seriesID);
      assert.equal(typeof a.activityTypeId, "number");
    }
  });
});

describe("OData", () => {
  test("each comparison operator filters by instant, with offsets and date-only literals", async () => {
    const { sim, rows } = await setup({ records: 300, switches: { defaultPageSize: 100000 } });
    const all = sim.rows("contacts");
    const pivot = String(all[150].edited);
    const ms = Date.parse(pivot);
    const iso = new Date(ms).toISOString(); // with Z and fractions
    const plusOne = new Date(ms + 3_600_000).toISOString().slice(0, 19) + "+01:00"; // same instant
    const cases: [string, (t: number) => boolean][] = [
      [`edited eq ${iso}`, (t) => t === ms],
      [`edited ne ${plusOne}`, (t) => t !== ms],
      [`edited gt ${iso}`, (t) => t > ms],
      [`edited ge ${plusOne}`, (t) => t >= ms],
      [`edited lt ${iso}`, (t) => t < ms],
      [`edited le ${iso}`, (t) => t <= ms],
    ];
    for (const [filter, pred] of cases) {
      const got = await rows(`/api/contacts?$filter=${f(filter)}`);
      const want = all.filter((r) => pred(Date.parse(String(r.edited))));
      assert.equal(got.length, want.length, filter);
      assert.ok(got.length > 0, filter);
    }
    const day = pivot.slice(0, 10);
    const got = await rows(
      `/api/contacts?$filter=${f(`edited ge ${day} and edited lt ${day}T23:59:59.999Z`)}`,
    );
    assert.ok(got.some((r) => r.id === all[150].id));
  });

  test("functions, and/or/not, parentheses, paths, strings, numbers, booleans, null", async () => {
    const { sim, rows } = await setup({ records: 300, switches: { defaultPageSize: 100000 } });
    const all = sim.rows("contacts");
    const check = async (filter: string, pred: (r: Record<string, unknown>) => boolean) => {
      const got = (await rows(`/api/contacts?$filter=${f(filter)}`)).map((r) => r.id).sort();
      const want = all.filter(pred).map((r) => r.id).sort();
      assert.deepEqual(got, want, filter);
      return got.length;
    };
    const addr = (r: Record<string, unknown>) => r.businessAddress as Record<string, unknown>;
    assert.ok(await check("startswith(id,'a')", (r) => String(r.id).startsWith("a")) > 0);
    assert.ok(
      await check("endswith(lastName,'SON')", (r) => String(r.lastName).endsWith("son")) > 0,
    );
    assert.ok(
      await check(
        "contains(fullName,'ar')",
        (r) => String(r.fullName).toLowerCase().includes("ar"),
      ) > 0,
    );
    assert.ok(
      await check("businessaddress/City eq 'Austin'", (r) => addr(r).city === "Austin") > 0,
    );
    assert.ok(
      await check(
        "(firstName eq 'Mary' or firstName eq 'John') and not startswith(id,'f')",
        (r) => (r.firstName === "Mary" || r.firstName === "John") && !String(r.id).startsWith("f"),
      ) > 0,
    );
    assert.ok(await check("lastName eq 'O''Brien'", (r) => r.lastName === "O'Brien") > 0);
    assert.ok(
      await check(
        "homeAddress/city eq null",
        (r) => (r.homeAddress as { city: unknown }).city === null,
      ) > 0,
    );
    assert.ok(await check("isPrivate eq true", (r) => r.isPrivate === true) > 0);
    assert.ok(
      await check("businessPhoneCountryCode ge 1", (r) => r.businessPhoneCountryCode === 1) > 0,
    );
    assert.ok(
      await check(
        "customFields/user2 gt 2000",
        (r) => Number((r.customFields as { user2: string }).user2) > 2000,
      ) > 0,
    );
  });

  test("unsupported options and bad syntax give 400", async () => {
    const { get } = await setup({ records: 10 });
    for (
      const q of [
        "$count=true",
        "$inlinecount=allpages",
        `$filter=${f("edited ge datetime'2024-01-01T00:00:00'")}`,
        `$filter=${f("tolower(lastName) eq 'x'")}`,
        `$filter=${f("nope eq 1")}`,
        `$filter=${f("edited ge 2024-01-01T00:00:00")}`, // no zone
        `$filter=${f("edited ge")}`,
        `$filter=edited ge 2024-01-01T00:00:00+01:00`, // unencoded + turns into a space
        "$orderby=nope",
        "$top=-1",
        "$skip=x",
        "$select=nope",
      ]
    ) {
      const res = await get(`/api/contacts?${q}`);
      assert.equal(res.status, 400, q);
      assert.ok((await res.json()).exceptionMessage, q);
    }
  });

  test("orderby, top, skip and select page through every row exactly once (stable order)", async () => {
    const { sim, rows } = await setup({ records: 250, switches: { unstableOrder: false } });
    const seen: string[] = [];
    for (let skip = 0; skip < 1000; skip += 40) {
      const page = await rows(
        `/api/contacts?$orderby=edited desc&$top=40&$skip=${skip}&$select=id,edited`,
      );
      if (page.length === 0) break;
      assert.deepEqual(Object.keys(page[0]), ["id", "edited"]);
      seen.push(...page.map((r) => String(r.id)));
    }
    assert.equal(seen.length, 250);
    assert.equal(new Set(seen).size, 250);
    const byId = await rows("/api/contacts?$orderby=id&$top=300&$select=id");
    const ids = byId.map((r) => String(r.id));
    assert.deepEqual(ids, [...ids].sort());
    assert.equal(sim.count("contacts"), 250);
  });

  test("pageCap and defaultPageSize limit pages whatever $top says", async () => {
    const { sim, rows } = await setup({ records: 100, switches: { pageCap: 7 } });
    assert.equal((await rows("/api/contacts?$top=50")).length, 7);
    sim.switches.pageCap = null;
    sim.switches.defaultPageSize = 30;
    assert.equal((await rows("/api/contacts")).length, 30);
    assert.equal((await rows("/api/contacts?$top=80")).length, 80);
  });

  test("ties come back in a different order per request unless stable-order", async () => {
    const { sim, rows } = await setup({ records: 200 });
    const ids = sim.rows("contacts").slice(0, 150).map((r) => String(r.id));
    sim.touch("contacts", ids, Date.UTC(2025, 5, 1));
    const q = `/api/contacts?$filter=${
      f("edited eq 2025-06-01T00:00:00Z")
    }&$orderby=edited&$top=150&$select=id`;
    const a = (await rows(q)).map((r) => r.id);
    const b = (await rows(q)).map((r) => r.id);
    assert.equal(a.length, 150);
    assert.deepEqual([...a].sort(), [...ids].sort());
    assert.notDeepEqual(a, b);
    sim.switches.unstableOrder = false;
    assert.deepEqual((await rows(q)).map((r) => r.id), (await rows(q)).map((r) => r.id));
  });

  test("multi-key orderby is 400 unless switched on, then orders ties by id", async () => {
    const { sim, get, rows } = await setup({ records: 200 });
    const q = "/api/contacts?$orderby=edited asc,id asc&$top=200&$select=id,edited";
    assert.equal((await get(q)).status, 400);
    sim.switches.multiKeyOrderBy = true;
    const page = await rows(q);
    assert.equal(page.length, 200);
    for (let i = 1; i < page.length; i++) {
      const [p, c] = [page[i - 1], page[i]];
      const cmp = Date.parse(String(p.edited)) - Date.parse(String(c.edited));
      assert.ok(cmp < 0 || (cmp === 0 && String(p.id) < String(c.id)), `row ${i}`);
    }
  });

  test("generated data has tie groups and stays before now", () => {
    const now = Date.UTC(2026, 0, 1);
    const sim = new Simulator({ records: 2000, now: () => now });
    const stamps = sim.rows("contacts").map((r) => Date.parse(String(r.edited)));
    const counts = new Map<number, number>();
    for (const s of stamps) counts.set(s, (counts.get(s) ?? 0) + 1);
    assert.ok(Math.max(...counts.values()) >= 100);
    assert.ok(Math.max(...stamps) < now);
    assert.ok(Math.min(...stamps) < now - 2 * 365 * 86_400_000);
  });
});

describe("mutations", () => {
  test("edit, insert, remove and touch show up in later queries", async () => {
    const { sim, rows } = await setup({ records: 50, switches: { defaultPageSize: 1000 } });
    const [victim, edited] = sim.rows("contacts");
    const before = await rows(`/api/contacts?$filter=${f("edited ge 2000-01-01")}`);
    assert.equal(before.length, 50);
    const e = sim.edit("contacts", String(edited.id), { lastName: "Changed" });
    assert.equal(e.lastName, "Changed");
    assert.ok(Date.parse(String(e.edited)) > Date.parse(String(edited.edited)));
    const ins = sim.insert("contacts", { firstName: "New" });
    assert.ok(sim.remove("contacts", String(victim.id)));
    assert.equal(sim.remove("contacts", String(victim.id)), false);
    assert.equal(sim.count("contacts"), 50);
    const latest = await rows("/api/contacts?$orderby=edited desc&$top=2");
    assert.deepEqual(new Set(latest.map((r) => r.id)), new Set([edited.id, ins.id]));
    const all = await rows("/api/contacts?$top=1000");
    assert.ok(!all.some((r) => r.id === victim.id));
    assert.equal(sim.get("contacts", String(victim.id)), undefined);
    assert.equal(sim.get("contacts", String(edited.id))?.lastName, "Changed");
    const got = await rows(`/api/contacts?$filter=${f(`id eq '${ins.id}'`)}`);
    assert.equal(got[0].firstName, "New");
    const at = Date.UTC(2025, 2, 3, 4, 5, 6);
    sim.touch("companies", sim.rows("companies").slice(0, 5).map((r) => String(r.id)), at);
    const tied = await rows(`/api/companies?$filter=${f("edited eq 2025-03-03T04:05:06Z")}`);
    assert.equal(tied.length, 5);
  });

  test("onRequest hooks run before each data request and can mutate mid-paging", async () => {
    const { sim, rows } = await setup({ records: 30, switches: { unstableOrder: false } });
    const seen: number[] = [];
    const off = sim.onRequest((info) => {
      seen.push(info.n);
      if (info.n === 2) sim.remove("contacts", String(sim.rows("contacts")[0].id));
    });
    await rows("/api/contacts?$top=10");
    const second = await rows("/api/contacts?$top=100");
    off();
    await rows("/api/contacts?$top=1");
    assert.deepEqual(seen, [1, 2]);
    assert.equal(second.length, 29);
  });

  test("same seed gives the same data, another seed different data", () => {
    const a = new Simulator({ seed: 9, records: 30, now: () => Date.UTC(2026, 0, 1) });
    const b = new Simulator({ seed: 9, records: 30, now: () => Date.UTC(2026, 0, 1) });
    const c = new Simulator({ seed: 10, records: 30, now: () => Date.UTC(2026, 0, 1) });
    assert.deepEqual(a.rows("activities"), b.rows("activities"));
    assert.deepEqual(a.rows("contacts"), b.rows("contacts"));
    assert.notDeepEqual(a.rows("contacts")[0].id, c.rows("contacts")[0].id);
  });
});

describe("faults and tokens", () => {
  test("status, rate-limit, malformed, truncated, html and object faults", async () => {
    const { sim, get } = await setup({ records: 20 });
    sim.inject({ kind: "status", status: 503, times: 2 });
    assert.equal((await get("/api/contacts")).status, 503);
    assert.equal((await get("/api/contacts")).status, 503);
    assert.equal((await get("/api/contacts")).status, 200);
    sim.inject({ kind: "status", status: 500 });
    assert.equal((await (await get("/api/contacts")).json()).message, "An error has occurred.");
    sim.inject({ kind: "rate-limit", retryAfter: "seconds", seconds: 3 });
    const r1 = await get("/api/contacts");
    assert.equal(r1.status, 429);
    assert.equal(r1.headers.get("retry-after"), "3");
    sim.inject({ kind: "rate-limit", retryAfter: "date", seconds: 5 });
    const r2 = await get("/api/contacts");
    assert.ok(Date.parse(r2.headers.get("retry-after")!) > Date.now());
    sim.inject({ kind: "malformed", path: "/api/contacts" });
    await assert.rejects((await get("/api/contacts")).json());
    sim.inject({ kind: "truncated" });
    await assert.rejects((await get("/api/contacts?$top=5")).json());
    sim.inject({ kind: "html" });
    const h = await get("/api/contacts");
    assert.match(h.headers.get("content-type")!, /text\/html/);
    assert.match(await h.text(), /<html>/);
    sim.inject({ kind: "object" });
    const o = await (await get("/api/opportunities?$top=3")).json();
    assert.ok(!Array.isArray(o) && !("value" in o));
    assert.equal(sim.stats.byStatus[503], 2);
  });

  test("a path fault only hits its path; /authorize only when the path says so", async () => {
    const { sim, get } = await setup({ records: 20 });
    sim.inject({ kind: "status", status: 502, path: "/API/companies" });
    assert.equal((await get("/api/contacts")).status, 200);
    assert.equal((await get("/api/companies")).status, 502);
    sim.inject({ kind: "status", status: 503 });
    assert.equal((await authorize(sim)).status, 200);
    assert.equal((await get("/api/contacts")).status, 503);
    sim.inject({ kind: "status", status: 403, path: "/authorize" });
    assert.equal((await authorize(sim)).status, 403);
  });

  test("slow, drop and expire-token faults", async () => {
    const { sim, get } = await setup({ records: 20 });
    sim.inject({ kind: "slow", ms: 50 });
    const t0 = performance.now();
    assert.equal((await get("/api/contacts?$top=1")).status, 200);
    assert.ok(performance.now() - t0 >= 45);
    sim.inject({ kind: "drop" });
    const dropped = await get("/api/contacts");
    await assert.rejects(dropped.text());
    sim.inject({ kind: "expire-token" });
    assert.equal((await get("/api/contacts")).status, 401);
    assert.equal((await get("/api/contacts")).status, 401);
  });

  test("tokens expire by lifetime (server clock incl. skew) and by request count", async () => {
    let now = Date.UTC(2025, 0, 1);
    const { sim, get } = await setup({ now: () => now, records: 5 });
    now += 3899_000;
    assert.equal((await get("/api/contacts")).status, 200);
    sim.switches.clockSkewSeconds = 2;
    assert.equal((await get("/api/contacts")).status, 401);
    const s2 = await setup({ records: 5, switches: { tokenMaxRequests: 2 } });
    assert.equal((await s2.get("/api/contacts")).status, 200);
    assert.equal((await s2.get("/api/contacts")).status, 200);
    assert.equal((await s2.get("/api/contacts")).status, 401);
    s2.sim.switches.tokenLifetimeSeconds = null;
    s2.sim.expireTokens();
    assert.equal((await authorize(s2.sim)).status, 200);
  });

  test("Date header follows the server clock; rate-limit headers and 429", async () => {
    const now = Date.UTC(2025, 0, 1, 12, 0, 30);
    const { sim, get } = await setup({
      now: () => now,
      records: 5,
      switches: { clockSkewSeconds: -600, rateLimit: { limit: 3 } },
    });
    const res = await get("/api/contacts");
    assert.equal(res.headers.get("date"), new Date(now - 600_000).toUTCString());
    assert.equal(res.headers.get("x-ratelimit-limit"), "3");
    assert.equal(res.headers.get("x-ratelimit-remaining"), "1"); // authorize was the first call
    assert.equal(res.headers.get("x-ratelimit-reset"), "30");
    assert.equal((await get("/api/contacts")).status, 200);
    const over = await get("/api/contacts");
    assert.equal(over.status, 429);
    assert.equal(over.headers.get("x-ratelimit-remaining"), "0");
    sim.switches.dateHeader = false;
    sim.switches.rateLimit = null;
    const plain = await get("/api/contacts");
    assert.equal(plain.headers.get("x-ratelimit-limit"), null);
    assert.equal(plain.headers.get("date"), null);
  });

  test("stampSkewSeconds moves the stamping clock apart from the Date header; dateJumpTo jumps once", async () => {
    let now = Date.UTC(2025, 0, 1, 12, 0, 0);
    const { sim, get, rows } = await setup({
      now: () => now,
      records: 5,
      switches: { stampSkewSeconds: -600 },
    });
    const id = String(sim.rows("contacts")[0].id);
    now += 5_000;
    sim.edit("contacts", id);
    const inserted = sim.insert("contacts");
    const res = await get("/api/contacts");
    assert.equal(res.headers.get("date"), new Date(now).toUTCString());
    const stamped = (r: Record<string, unknown>): number => Date.parse(String(r.edited));
    assert.equal(stamped(sim.get("contacts", id)!), now - 600_000);
    assert.equal(stamped(inserted), now - 600_000);
    sim.switches.stampSkewSeconds = 300;
    sim.touch("contacts", [id]);
    assert.equal(stamped(sim.get("contacts", id)!), now + 300_000);
    assert.equal(sim.stampClock(), now + 300_000);

    const jump = Date.UTC(2100, 0, 1);
    sim.switches.dateJumpTo = jump;
    // Only a data response carries the jumped date, and only one.
    await authorize(sim);
    const jumped = await get("/api/contacts");
    assert.equal(jumped.headers.get("date"), new Date(jump).toUTCString());
    assert.equal(sim.switches.dateJumpTo, null);
    assert.equal((await get("/api/contacts")).headers.get("date"), new Date(now).toUTCString());
    assert.equal((await rows("/api/contacts")).length, 6);
  });

  test("random faults are drawn from a seeded PRNG", async () => {
    const run = async (): Promise<number[]> => {
      const { get } = await setup({
        records: 5,
        switches: { randomFaults: { rate: 0.5, kinds: ["status"], seed: 4 } },
      });
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push((await get("/api/contacts")).status);
      return out;
    };
    const a = await run();
    assert.deepEqual(a, await run());
    assert.ok(a.includes(200) && a.some((s) => s >= 500));
  });
});

describe("socket and scale", () => {
  test("startSimulator serves over a real socket", async () => {
    const running = await startSimulator({ records: 10 });
    try {
      assert.match(running.url, /^http:\/\/127\.0\.0\.1:\d+\/act\.web\.api$/);
      const auth = await fetch(`${running.url}/authorize`, {
        headers: { authorization: basic("demo", "demo"), "act-database-name": "ActDemo" },
      });
      const token = await auth.text();
      const headers = { authorization: `Bearer ${token}`, "act-database-name": "ActDemo" };
      const res = await fetch(`${running.url}/api/contacts?$top=3`, { headers });
      assert.equal((await res.json()).value.length, 3);
      running.sim.inject({ kind: "drop" });
      await assert.rejects(async () => {
        const r = await fetch(`${running.url}/api/contacts`, { headers });
        await r.text();
      });
      running.sim.inject({ kind: "slow", ms: 60_000 });
      const ctl = new AbortController();
      const pending = fetch(`${running.url}/api/contacts`, { headers, signal: ctl.signal });
      ctl.abort();
      await assert.rejects(pending);
    } finally {
      await running.close();
    }
  });

  test("a 1,000,000-contact simulator answers a windowed page correctly", async () => {
    const t0 = performance.now();
    const { sim, rows } = await setup({ records: 1_000_000 });
    const filter = f(
      "edited ge 2024-01-01T00:00:00Z and edited le 2024-06-30T00:00:00Z and startswith(id,'c')",
    );
    const t1 = performance.now();
    const page = await rows(`/api/contacts?$filter=${filter}&$orderby=edited&$top=1000&$skip=1000`);
    const t2 = performance.now();
    const deep = await rows(`/api/contacts?$orderby=edited&$top=1000&$skip=998500`);
    const t3 = performance.now();
    console.log(
      `1M contacts: setup ${(t1 - t0).toFixed(0)} ms, windowed page ${(t2 - t1).toFixed(0)} ms, ` +
        `deep page ${(t3 - t2).toFixed(0)} ms`,
    );
    assert.equal(page.length, 1000);
    for (let i = 0; i < page.length; i++) {
      const t = Date.parse(String(page[i].edited));
      assert.ok(String(page[i].id).startsWith("c"));
      assert.ok(t >= Date.UTC(2024, 0, 1) && t <= Date.UTC(2024, 5, 30));
      if (i) assert.ok(t >= Date.parse(String(page[i - 1].edited)));
    }
    assert.equal(deep.length, 1000);
    assert.equal(sim.count("contacts"), 1_000_000);
    assert.equal(sim.get("contacts", String(deep[999].id))?.id, deep[999].id);
  });
});
