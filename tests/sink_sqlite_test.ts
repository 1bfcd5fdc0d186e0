import { after, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { DatabaseSync } from "node:sqlite";
import { openSqliteSink } from "../src/sink/sqlite.ts";
import { flattenPage } from "../src/sync/flatten.ts";
import { tempDir } from "./_helpers.ts";

const dir = tempDir("act-sync-sink-");
after(() => rmSync(dir, { recursive: true, force: true }));

function query(path: string, sql: string): Record<string, unknown>[] {
  const db = new DatabaseSync(path);
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

test("SQLite sink creates folders, the table, and upserts by id with metadata columns", async () => {
  const path = join(dir, "a", "b", "act.db");
  const sink = await openSqliteSink(path);
  const first = await sink.write(
    "contacts",
    flattenPage([{ id: "1", firstName: "Ann", isPrivate: true }, { id: "2", firstName: "Bo" }]),
    "2024-01-01T00:00:00.000Z",
  );
  assert.equal(first.written, 2);
  assert.deepEqual(first.newColumns.sort(), ["firstName", "isPrivate"]);
  await sink.write(
    "contacts",
    flattenPage([{ id: "1", firstName: "Anna" }]),
    "2024-01-02T00:00:00.000Z",
  );
  assert.equal(await sink.count("contacts"), 2);
  await sink.close();
  const rows = query(path, "SELECT * FROM contacts ORDER BY id");
  assert.deepEqual(rows.map((r) => ({ ...r })), [
    {
      id: "1",
      _act_synced: "2024-01-02T00:00:00.000Z",
      _act_deleted: 0,
      _act_deleted_at: null,
      firstName: "Anna",
      isPrivate: null,
    },
    {
      id: "2",
      _act_synced: "2024-01-01T00:00:00.000Z",
      _act_deleted: 0,
      _act_deleted_at: null,
      firstName: "Bo",
      isPrivate: null,
    },
  ]);
  assert.equal(query(path, "PRAGMA journal_mode")[0].journal_mode, "wal");
});

test("SQLite sink stores booleans as 0/1 and widens a column whose type no longer fits", async () => {
  const path = join(dir, "widen.db");
  const sink = await openSqliteSink(path);
  await sink.write("products", flattenPage([{ id: "p1", price: 10, ok: true, code: 1 }]), "t1");
  const result = await sink.write(
    "products",
    flattenPage([{ id: "p2", price: 10.5, ok: false, code: "00123" }]),
    "t2",
  );
  assert.deepEqual(result.widenedColumns.sort(), ["code", "price"]);
  await sink.close();
  const types = Object.fromEntries(
    query(path, "PRAGMA table_info(products)").map((r) => [r.name, r.type]),
  );
  assert.equal(types.price, "REAL");
  assert.equal(types.code, "TEXT");
  const rows = query(path, "SELECT id, price, ok, code FROM products ORDER BY id");
  assert.deepEqual(rows.map((r) => ({ ...r })), [
    { id: "p1", price: 10, ok: 1, code: "1" },
    { id: "p2", price: 10.5, ok: 0, code: "00123" },
  ]);
});

test("SQLite sink marks rows deleted and revives them when they come back", async () => {
  const path = join(dir, "deleted.db");
  const sink = await openSqliteSink(path);
  await sink.write("companies", flattenPage([{ id: "c1" }, { id: "c2" }]), "t1");
  assert.equal(await sink.markDeleted("companies", ["c2", "missing"], "2024-05-01T00:00:00Z"), 1);
  assert.deepEqual(await sink.ids("companies"), ["c1"]);
  await sink.write("companies", flattenPage([{ id: "c2", name: "back" }]), "t2");
  assert.deepEqual((await sink.ids("companies")).sort(), ["c1", "c2"]);
  assert.equal(await sink.count("opportunities"), 0, "a missing table counts 0");
  await sink.close();
});

test("SQLite sink gives column names that differ only in case their own columns", async () => {
  const path = join(dir, "case.db");
  const sink = await openSqliteSink(path);
  await sink.write("contacts", flattenPage([{ id: "1", customFields: { User1: "a" } }]), "t1");
  await sink.write("contacts", flattenPage([{ id: "2", customFields: { user1: "b" } }]), "t2");
  await sink.close();
  const rows = query(
    path,
    "SELECT id, customFields_User1 AS u, customFields_user1_2 AS l FROM contacts ORDER BY id",
  );
  assert.deepEqual(rows.map((r) => [r.u, r.l]), [["a", null], [null, "b"]]);
});

test("SQLite sink keeps booleans 0/1 and integers without .0 when a column becomes text", async () => {
  const path = join(dir, "widen-text.db");
  const sink = await openSqliteSink(path);
  await sink.write("products", flattenPage([{ id: "a", flag: true, n: 5, r: 2 }]), "t1");
  await sink.write("products", flattenPage([{ id: "b", flag: false, n: 7, r: 2.5 }]), "t2");
  await sink.write("products", flattenPage([{ id: "c", flag: "x", n: "y", r: "z" }]), "t3");
  await sink.write("products", flattenPage([{ id: "d", flag: true, n: 9, r: 3 }]), "t4");
  await sink.close();
  const rows = query(path, "SELECT id, flag, n, r FROM products ORDER BY id");
  assert.deepEqual(rows.map((r) => [r.id, r.flag, r.n, r.r]), [
    ["a", "1", "5", "2"],
    ["b", "0", "7", "2.5"],
    ["c", "x", "y", "z"],
    ["d", "1", "9", "3"],
  ]);
});

test("SQLite sink names the file and the lock when another program holds a write lock", async () => {
  const path = join(dir, "locked.db");
  const sink = await openSqliteSink(path, { busyTimeoutMs: 50 });
  await sink.write("contacts", flattenPage([{ id: "1" }]), "t1");
  const other = new DatabaseSync(path);
  other.exec("BEGIN IMMEDIATE");
  try {
    await assert.rejects(
      sink.write("contacts", flattenPage([{ id: "2" }]), "t2"),
      (error: Error) => {
        assert.match(error.message, /locked\.db/);
        assert.match(error.message, /another program holds a write lock/);
        return true;
      },
    );
  } finally {
    other.exec("ROLLBACK");
    other.close();
  }
  assert.equal(await sink.count("contacts"), 1);
  await sink.close();
});

test("SQLite sink creates the database (and its -wal, -shm) 0600 and its folders 0700", {
  skip: process.platform === "win32",
}, async () => {
  const folder = join(dir, "private", "sub");
  const path = join(folder, "act.db");
  const sink = await openSqliteSink(path);
  try {
    await sink.write("contacts", flattenPage([{ id: "1" }]), "2024-01-01T00:00:00.000Z");
    assert.equal(statSync(folder).mode & 0o777, 0o700);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      assert.equal(statSync(file).mode & 0o777, 0o600, file);
    }
  } finally {
    await sink.close();
  }
});
