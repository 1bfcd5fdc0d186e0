// The PostgreSQL sink against a real server: set ACT_SYNC_TEST_PG to a superuser URL
// (`scripts/postgres.sh start` prints one; `npm test` starts one). Without it every test is skipped.
import { after, before, postgresSkip, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import process from "node:process";
import postgres from "postgres";
import { openPostgresSink } from "../src/sink/postgres.ts";
import type { ColumnType, FlatPage, FlatRow, Sink } from "../src/sink/sink.ts";
import { ConfigError } from "../src/core/errors.ts";
import { createLogger } from "../src/core/log.ts";
import { TestDatabase } from "./_postgres.ts";

const ADMIN_URL = process.env.ACT_SYNC_TEST_PG ?? "";
const skip = postgresSkip();
const testDb = new TestDatabase("test");

/** The admin URL pointing at another database `name`. */
function urlFor(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.href;
}
const T0 = "2024-05-01T10:00:00Z";
const T1 = "2024-05-02T10:00:00Z";

let db: postgres.Sql | undefined;
const sinks: Sink[] = [];

function page(rows: FlatRow[], types: Record<string, ColumnType>): FlatPage {
  return { rows, types: new Map(Object.entries(types)) };
}

async function open(query = "", options: { schema?: string; chunkRows?: number } = {}) {
  const sink = await openPostgresSink(testDb.url(query), options);
  sinks.push(sink);
  return sink;
}

/** Query the test database directly. */
function sql(): postgres.Sql {
  return db!;
}

async function columnTypes(table: string, schema = "public"): Promise<Record<string, string>> {
  const rows = await sql()`SELECT column_name, data_type FROM information_schema.columns
    WHERE table_schema = ${schema} AND table_name = ${table}`;
  return Object.fromEntries(rows.map((r) => [r.column_name, r.data_type]));
}

before(async () => {
  if (skip) return;
  db = await testDb.sql();
});

after(async () => {
  for (const sink of sinks) await sink.close().catch(() => {});
  await testDb.drop();
});

test(
  "openPostgresSink() upserts rows and a replaced row loses its absent columns",
  { skip },
  async () => {
    const sink = await open();
    assert.equal(await sink.count("contacts"), 0);
    assert.deepEqual(await sink.ids("contacts"), []);
    const first = await sink.write(
      "contacts",
      page([{ id: "a", name: "Ann", age: 31 }, { id: "b", name: "Bob", age: 40 }], {
        name: "text",
        age: "integer",
      }),
      T0,
    );
    assert.equal(first.written, 2);
    assert.deepEqual(first.newColumns.sort(), ["age", "name"]);
    assert.deepEqual(first.widenedColumns, []);
    const second = await sink.write(
      "contacts",
      page([{ id: "a", name: "Anna" }], { name: "text" }),
      T1,
    );
    assert.deepEqual(second, {
      written: 1,
      changes: { inserted: 0, updated: 1, unchanged: 0 },
      newColumns: [],
      widenedColumns: [],
    });
    const rows = await sql()`SELECT id, name, age::text AS age, _act_synced::text AS synced
    FROM contacts ORDER BY id`;
    assert.deepEqual(rows.map((r) => ({ ...r })), [
      { id: "a", name: "Anna", age: null, synced: "2024-05-02 10:00:00+00" },
      { id: "b", name: "Bob", age: "40", synced: "2024-05-01 10:00:00+00" },
    ]);
    const types = await columnTypes("contacts");
    assert.equal(types.id, "text");
    assert.equal(types.age, "bigint");
    assert.equal(types._act_synced, "timestamp with time zone");
    assert.equal(types._act_deleted, "boolean");
    assert.equal(types._act_deleted_at, "timestamp with time zone");
    assert.equal(await sink.count("contacts"), 2);
  },
);

test("write() keeps the later row when a page repeats an id", { skip }, async () => {
  const sink = await open();
  await sink.write(
    "companies",
    page([{ id: "x", name: "old", size: 1 }, { id: "y", name: "other" }, {
      id: "x",
      name: "new",
    }], { name: "text", size: "integer" }),
    T0,
  );
  const rows = await sql()`SELECT id, name, size FROM companies ORDER BY id`;
  assert.deepEqual(rows.map((r) => [r.id, r.name, r.size]), [["x", "new", null], [
    "y",
    "other",
    null,
  ]]);
});

test("write() adds a column that appears in a later page", { skip }, async () => {
  const sink = await open();
  await sink.write("products", page([{ id: "p1", name: "Pen" }], { name: "text" }), T0);
  const result = await sink.write(
    "products",
    page([{ id: "p2", name: "Ink", price: 2.5 }], { name: "text", price: "real" }),
    T1,
  );
  assert.deepEqual(result.newColumns, ["price"]);
  const rows = await sql()`SELECT id, price FROM products ORDER BY id`;
  // numeric: exact decimals, read back as their text.
  assert.deepEqual(rows.map((r) => [r.id, r.price]), [["p1", null], ["p2", "2.5"]]);
  assert.equal((await columnTypes("products")).price, "numeric");
});

test("write() widens integer to real to text and keeps the values", { skip }, async () => {
  const sink = await open();
  await sink.write("opportunities", page([{ id: "1", amount: 7 }], { amount: "integer" }), T0);
  assert.equal((await columnTypes("opportunities")).amount, "bigint");
  const toReal = await sink.write(
    "opportunities",
    page([{ id: "2", amount: 1.25 }], { amount: "real" }),
    T0,
  );
  assert.deepEqual(toReal.widenedColumns, ["amount"]);
  assert.equal((await columnTypes("opportunities")).amount, "numeric");
  const toText = await sink.write(
    "opportunities",
    page([{ id: "3", amount: "n/a" }], { amount: "text" }),
    T0,
  );
  assert.deepEqual(toText.widenedColumns, ["amount"]);
  assert.equal((await columnTypes("opportunities")).amount, "text");
  // A number written into a text column is stored as its text.
  await sink.write("opportunities", page([{ id: "4", amount: 12 }], { amount: "integer" }), T0);
  const rows = await sql()`SELECT id, amount FROM opportunities ORDER BY id`;
  assert.deepEqual(rows.map((r) => [r.id, r.amount]), [
    ["1", "7"],
    ["2", "1.25"],
    ["3", "n/a"],
    ["4", "12"],
  ]);
});

test("write() widens json, datetime and boolean columns to readable text", { skip }, async () => {
  const sink = await open();
  await sink.write(
    "activities",
    page([
      { id: "1", tags: '["a","b"]', due: "2024-01-02T03:04:05Z", done: true },
      { id: "2", tags: '{"k":1}', due: "2024-01-02T03:04:05.123Z", done: false },
    ], { tags: "json", due: "datetime", done: "boolean" }),
    T0,
  );
  const result = await sink.write(
    "activities",
    page([{ id: "3", tags: "plain", due: "soon", done: "maybe" }], {
      tags: "text",
      due: "text",
      done: "text",
    }),
    T0,
  );
  assert.deepEqual(result.widenedColumns.sort(), ["done", "due", "tags"]);
  const types = await columnTypes("activities");
  assert.deepEqual([types.tags, types.due, types.done], ["text", "text", "text"]);
  const rows = await sql()`SELECT id, tags, due, done FROM activities ORDER BY id`;
  assert.deepEqual(JSON.parse(rows[0].tags), ["a", "b"]);
  assert.deepEqual(JSON.parse(rows[1].tags), { k: 1 });
  assert.deepEqual(rows.map((r) => [r.id, r.due, r.done]), [
    ["1", "2024-01-02T03:04:05Z", "1"],
    ["2", "2024-01-02T03:04:05.123Z", "0"],
    ["3", "soon", "maybe"],
  ]);
  assert.equal(rows[2].tags, "plain");
});

test("booleans, date-times and JSON round-trip as native types", { skip }, async () => {
  const sink = await open();
  await sink.write(
    "activity_types",
    page([
      {
        id: "t1",
        active: true,
        created: "2023-08-17T13:50:18Z",
        meta: '{"a":[1,2,{"b":null}],"s":"x\\"y"}',
        score: 0.1,
        big: 9007199254740991,
      },
      { id: "t2", active: false, created: "1900-01-01T00:00:00.5Z", meta: "[]" },
    ], {
      active: "boolean",
      created: "datetime",
      meta: "json",
      score: "real",
      big: "integer",
    }),
    T0,
  );
  const types = await columnTypes("activity_types");
  assert.deepEqual(
    [types.active, types.created, types.meta, types.score, types.big],
    ["boolean", "timestamp with time zone", "jsonb", "numeric", "bigint"],
  );
  const rows = await sql()`SELECT id, active, created, meta, score, big::text AS big,
    _act_deleted FROM activity_types ORDER BY id`;
  assert.equal(rows[0].active, true);
  assert.equal(rows[1].active, false);
  assert.equal((rows[0].created as Date).toISOString(), "2023-08-17T13:50:18.000Z");
  assert.equal((rows[1].created as Date).toISOString(), "1900-01-01T00:00:00.500Z");
  assert.deepEqual(rows[0].meta, { a: [1, 2, { b: null }], s: 'x"y' });
  assert.deepEqual(rows[1].meta, []);
  assert.equal(rows[0].score, "0.1");
  assert.equal(rows[0].big, "9007199254740991");
  assert.equal(rows[1].score, null);
  assert.equal(rows[0]._act_deleted, false);
  const [{ kind }] = await sql()`SELECT jsonb_typeof(meta) AS kind FROM activity_types
    WHERE id = 't1'`;
  assert.equal(kind, "object");
});

test("column names keep their case, quotes and length", { skip }, async () => {
  const sink = await open();
  const long = "customFields_" + "x".repeat(70);
  const names = ['we"ird', "MixedCase", "with space", "drop table; --", long];
  const row: FlatRow = { id: 'id"1' };
  const types: Record<string, ColumnType> = {};
  names.forEach((name, i) => {
    row[name] = `v${i}`;
    types[name] = "text";
  });
  const first = await sink.write("contacts", page([row], types), T0);
  assert.equal(first.newColumns.length, names.length);
  // The long name maps to the same (cut) column on a later write: no second ADD COLUMN.
  const again = await sink.write("contacts", page([{ ...row, id: "id2" }], types), T0);
  assert.deepEqual(again.newColumns, []);
  const columns = Object.keys(await columnTypes("contacts"));
  for (const name of names.slice(0, 4)) assert.ok(columns.includes(name), name);
  assert.ok(columns.includes(long.slice(0, 63)));
  const rows = await sql().unsafe(
    `SELECT "we""ird" AS a, "MixedCase" AS b, "with space" AS c, "drop table; --" AS d,
     "${long.slice(0, 63)}" AS e FROM contacts WHERE id = $1`,
    ['id"1'],
  );
  assert.deepEqual({ ...rows[0] }, { a: "v0", b: "v1", c: "v2", d: "v3", e: "v4" });
});

test("count(), ids() and markDeleted() skip deleted rows; a later write revives them", {
  skip,
}, async () => {
  const sink = await open();
  await sink.write(
    "companies",
    page([{ id: "c1" }, { id: "c2" }, { id: "c3" }], {}),
    T0,
  );
  const before = await sink.count("companies");
  assert.ok(before >= 3);
  assert.equal(await sink.markDeleted("companies", ["c1", "c3", "missing"], T1), 2);
  assert.equal(await sink.markDeleted("companies", ["c1"], T1), 0, "already deleted");
  assert.equal(await sink.markDeleted("companies", [], T1), 0);
  assert.equal(await sink.count("companies"), before - 2);
  const ids = await sink.ids("companies");
  assert.ok(ids.includes("c2"));
  assert.ok(!ids.includes("c1") && !ids.includes("c3"));
  const [row] = await sql()`SELECT _act_deleted, _act_deleted_at FROM companies WHERE id = 'c1'`;
  assert.equal(row._act_deleted, true);
  assert.equal((row._act_deleted_at as Date).toISOString(), "2024-05-02T10:00:00.000Z");
  await sink.write("companies", page([{ id: "c1" }], {}), T1);
  assert.ok((await sink.ids("companies")).includes("c1"));
  const [revived] = await sql()`SELECT _act_deleted, _act_deleted_at FROM companies
    WHERE id = 'c1'`;
  assert.deepEqual({ ...revived }, { _act_deleted: false, _act_deleted_at: null });
  assert.equal(await sink.markDeleted("opportunities_missing" as "products", ["x"], T1), 0);
});

test("count() and ids() of a table never written are empty", { skip }, async () => {
  const sink = await open("?schema=empty_one");
  assert.equal(await sink.count("products"), 0);
  assert.deepEqual(await sink.ids("products"), []);
  assert.equal(await sink.markDeleted("products", ["a"], T0), 0);
});

test("the schema parameter creates the schema and keeps the tables in it", { skip }, async () => {
  const sink = await open("?schema=Act%20Data");
  assert.equal(sink.description.includes(":" + new URL(ADMIN_URL).password + "@"), false);
  assert.match(sink.description, /schema=Act/);
  await sink.write("contacts", page([{ id: "s1", n: 1 }], { n: "integer" }), T0);
  const [{ n }] = await sql()`SELECT n FROM "Act Data".contacts`;
  assert.equal(Number(n), 1);
  const other = await open("?schema=ignored", { schema: "from_option" });
  await other.write("contacts", page([{ id: "o1" }], {}), T0);
  const schemas = await sql()`SELECT nspname FROM pg_namespace
    WHERE nspname IN ('Act Data', 'from_option', 'ignored') ORDER BY nspname`;
  assert.deepEqual(schemas.map((r) => r.nspname), ["Act Data", "from_option"]);
  assert.equal(await other.count("contacts"), 1);
});

test("write() splits big pages into chunks in one transaction", { skip }, async () => {
  const sink = await open("?schema=chunks", { chunkRows: 3 });
  const rows: FlatRow[] = Array.from({ length: 10 }, (_, i) => ({ id: `r${i}`, n: i }));
  assert.equal((await sink.write("contacts", page(rows, { n: "integer" }), T0)).written, 10);
  assert.equal(await sink.count("contacts"), 10);
  // A failing chunk rolls the whole page back, columns included.
  const bad: FlatRow[] = Array.from({ length: 7 }, (_, i) => ({ id: `q${i}`, n: i, extra: "e" }));
  bad[6] = { id: "q6", n: 1, extra: "e", meta: "{not json" };
  await assert.rejects(
    sink.write("contacts", page(bad, { n: "integer", extra: "text", meta: "json" }), T0),
    /Cannot write 7 rows to table "contacts"/,
  );
  assert.equal(await sink.count("contacts"), 10);
  assert.equal((await columnTypes("contacts", "chunks")).extra, undefined);
  const again = await sink.write(
    "contacts",
    page([{ id: "q0", extra: "e" }], { extra: "text" }),
    T0,
  );
  assert.deepEqual(again.newColumns, ["extra"]);
});

function assertSafe(error: unknown, password: string, pattern: RegExp): true {
  assert.ok(error instanceof Error);
  assert.match(error.message, pattern);
  assert.ok(!error.message.includes(password), `password in: ${error.message}`);
  assert.ok(!String(error.stack).includes(password));
  return true;
}

test("a wrong password fails with an authentication message without the password", {
  skip,
}, async () => {
  const url = new URL(testDb.url());
  url.password = "Wr0ng-Secret-pw";
  const lines: string[] = [];
  const logger = createLogger({ level: "FINE", write: (line) => lines.push(line) });
  await assert.rejects(
    openPostgresSink(url.href, { logger }),
    (e) => assertSafe(e, "Wr0ng-Secret-pw", /authentication failed for user "act_sync"/),
  );
  assert.ok(!lines.join("\n").includes("Wr0ng-Secret-pw"));
});

test("a missing database fails naming the database", { skip }, async () => {
  const password = decodeURIComponent(new URL(ADMIN_URL).password);
  await assert.rejects(
    openPostgresSink(urlFor("no_such_db_act_sync")),
    (e) => assertSafe(e, password, /database "no_such_db_act_sync" does not exist/),
  );
});

test("an unreachable port fails with connection refused", async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const url = `postgres://someone:Refused-Secret-pw@127.0.0.1:${port}/db`;
  await assert.rejects(
    openPostgresSink(url, { connectTimeoutSeconds: 5 }),
    (e) =>
      assertSafe(
        e,
        "Refused-Secret-pw",
        new RegExp(`postgres://someone@127\\.0\\.0\\.1:${port}/db.*connection refused`),
      ),
  );
});

test("a server that drops every connection fails within the timeout", async () => {
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const started = Date.now();
  try {
    await assert.rejects(
      openPostgresSink(`postgres://u:Dropped-Secret-pw@127.0.0.1:${port}/db`, {
        connectTimeoutSeconds: 1,
      }),
      (e) => assertSafe(e, "Dropped-Secret-pw", /timed out .*PostgreSQL server/),
    );
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  assert.ok(accepted >= 1);
  assert.ok(Date.now() - started < 10_000);
});

test("a user without rights fails with permission denied", { skip }, async () => {
  const user = `act_sync_limited_${testDb.name.slice(-6)}`;
  await sql().unsafe(`CREATE ROLE "${user}" LOGIN PASSWORD 'Limited-Secret-pw'`);
  try {
    const url = new URL(testDb.url("?schema=not_allowed"));
    url.username = user;
    url.password = "Limited-Secret-pw";
    await assert.rejects(
      openPostgresSink(url.href),
      (e) => assertSafe(e, "Limited-Secret-pw", /permission denied for user/),
    );
  } finally {
    await sql().unsafe(`DROP OWNED BY "${user}"`);
    await sql().unsafe(`DROP ROLE "${user}"`);
  }
});

test("a malformed URL is a ConfigError without the password", async () => {
  await assert.rejects(
    openPostgresSink("mysql://u:Bad-Secret-pw@host/db"),
    (e) => e instanceof ConfigError && assertSafe(e, "Bad-Secret-pw", /'destination'/),
  );
  await assert.rejects(
    openPostgresSink("postgres://u:Bad-Secret-pw@[bad/db"),
    (e) => e instanceof ConfigError && assertSafe(e, "Bad-Secret-pw", /'destination'/),
  );
});
