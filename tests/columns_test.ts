// Odd and colliding field names and extreme values (the simulator's `oddFields` switch) through
// the real client, engine and both sinks: no two source fields share a column, no name fails a
// table, values are stored exactly, and the mapping is recorded in `_act_columns`.
import { after, postgresSkip, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type postgres from "postgres";
import { type Logger, silentLogger } from "../src/core/log.ts";
import { oddFields, startSimulator } from "../src/simulator/mod.ts";
import { simulatorClient, syncOnce, tempDir } from "./_helpers.ts";
import { TestDatabase } from "./_postgres.ts";

const dir = tempDir("act-sync-columns-");
const pg = new TestDatabase("columns");
let pgDb: postgres.Sql | undefined;

after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await pg.drop();
});

const LONG = `customField_${"x".repeat(60)}`;

/** Source field → the column it must land in (sorted paths take suffixes in order). */
const EXPECTED_COLUMNS: Record<string, string> = {
  Region: "Region",
  region: "region_2",
  "Ärger": "Ärger",
  "ärger": "ärger_2",
  "zz/yy": "zz_yy",
  zz_yy: "zz_yy_2",
  [`${LONG}A`]: LONG.slice(0, 63),
  [`${LONG}B`]: `${LONG.slice(0, 61)}_2`,
  ID: "ID_2",
  _act_synced: "_act_synced_2",
  _act_deleted: "_act_deleted_2",
  "": "_2",
  "nul~2key": "nulkey",
  badDate: "badDate",
  dotnet: "dotnet",
  big: "big",
  huge: "huge",
  beyond: "beyond",
};

/** What each column must hold for the record `id` (all compared as text). */
function expectedValues(id: string): Record<string, string> {
  const odd = oddFields(id) as Record<string, unknown>;
  return {
    Region: `upper ${id}`,
    region_2: `lower ${id}`,
    "Ärger": `upper ${id}`,
    "ärger_2": `lower ${id}`,
    zz_yy: `nested ${id}`,
    zz_yy_2: `flat ${id}`,
    [LONG.slice(0, 63)]: `long A ${id}`,
    [`${LONG.slice(0, 61)}_2`]: `long B ${id}`,
    ID_2: `ID ${id}`,
    _act_synced_2: `synced ${id}`,
    _act_deleted_2: `deleted ${id}`,
    _2: `empty ${id}`,
    nulkey: `nul ${id}`,
    badDate: String(odd.badDate),
    dotnet: "2024-06-01T00:00:03.1234567Z",
    big: "9007199254740993",
    huge: "1e400",
    beyond: "99999999999999999999",
  };
}

interface Reader {
  /** Every row of contacts, values as text. */
  rows(): Promise<Map<string, Record<string, string | null>>>;
  /** Rows of `_act_columns` for contacts: source path → column. */
  mapping(): Promise<Record<string, string>>;
}

function sqliteReader(path: string): Reader {
  const read = <T>(sql: string) => {
    const db = new DatabaseSync(path);
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  };
  return {
    rows() {
      const names = read<{ name: string }>("PRAGMA table_info(contacts)").map((c) => c.name);
      const select = names.map((n) => `CAST("${n.replaceAll('"', '""')}" AS TEXT)`).join(", ");
      const db = new DatabaseSync(path);
      try {
        const rows = db.prepare(`SELECT ${select} FROM contacts`).all() as Record<
          string,
          unknown
        >[];
        return Promise.resolve(
          new Map(rows.map((row) => {
            const values = Object.values(row).map((v) => v === null ? null : String(v));
            const named = Object.fromEntries(names.map((n, i) => [n, values[i]]));
            return [String(named.id), named];
          })),
        );
      } finally {
        db.close();
      }
    },
    mapping: () =>
      Promise.resolve(Object.fromEntries(
        read<{ p: string; c: string }>(
          "SELECT source_path AS p, column_name AS c FROM _act_columns WHERE table_name = 'contacts'",
        ).map((r) => [r.p, r.c]),
      )),
  };
}

function pgReader(schema: string): Reader {
  return {
    async rows() {
      const columns = await pgDb!`SELECT column_name FROM information_schema.columns
        WHERE table_schema = ${schema} AND table_name = 'contacts' ORDER BY ordinal_position`;
      const names = columns.map((c) => String(c.column_name));
      const select = names.map((n, i) => `"${n.replaceAll('"', '""')}"::text AS c${i}`);
      const rows = await pgDb!.unsafe(`SELECT ${select.join(", ")} FROM "${schema}".contacts`);
      return new Map(rows.map((r) => {
        const named = Object.fromEntries(names.map((n, i) => [n, r[`c${i}`] ?? null]));
        return [String(named.id), named];
      }));
    },
    async mapping() {
      const rows = await pgDb!.unsafe(
        `SELECT source_path AS p, column_name AS c FROM "${schema}"._act_columns ` +
          `WHERE table_name = 'contacts'`,
      );
      return Object.fromEntries(rows.map((r) => [r.p, r.c]));
    },
  };
}

/** A logger that keeps WARNING messages. */
function warningLogger(warnings: string[]): Logger {
  const logger = silentLogger();
  return { ...logger, warning: (message: string) => warnings.push(message) };
}

async function check(destination: string, reader: Reader, folder: string): Promise<void> {
  const running = await startSimulator({ records: 25, seed: 5, switches: { oddFields: true } });
  try {
    const statePath = join(folder, "state.json");
    const run = async (warnings: string[]) => {
      return await syncOnce(destination, statePath, {
        tables: ["contacts"],
        batchSize: 10,
        source: simulatorClient(running.url),
        sinkOptions: { logger: warningLogger(warnings) },
      });
    };
    const first: string[] = [];
    const result = await run(first);
    assert.deepEqual(result.tables.map((t) => [t.status, t.error ?? null]), [["ok", null]]);
    // One WARNING per disambiguated field, naming both source paths.
    assert.ok(
      first.some((w) => w.includes('"region"') && w.includes('"Region"') && w.includes("region_2")),
      first.join("\n"),
    );
    assert.ok(first.some((w) => w.includes('"zz_yy"') && w.includes('"zz/yy"')), first.join("\n"));
    assert.ok(first.some((w) => w.includes('"ID"') && w.includes("record id")), first.join("\n"));
    assert.equal(first.length, 8, first.join("\n"));

    const mapping = await reader.mapping();
    for (const [path, column] of Object.entries(EXPECTED_COLUMNS)) {
      assert.equal(mapping[path], column, `source path "${path}"`);
    }
    const check = async () => {
      const rows = await reader.rows();
      const truth = running.sim.rows("contacts");
      assert.equal(rows.size, truth.length);
      for (const record of truth) {
        const id = String(record.id);
        const row = rows.get(id)!;
        assert.ok(row, id);
        for (const [column, want] of Object.entries(expectedValues(id))) {
          assert.equal(row[column], want, `${id} column ${column}`);
        }
      }
    };
    await check();
    const touched = running.sim.rows("contacts").slice(0, 3).map((r) => String(r.id));
    running.sim.touch("contacts", touched);
    const second: string[] = [];
    const again = await run(second);
    assert.deepEqual(again.tables.map((t) => t.status), ["ok"]);
    assert.deepEqual(again.tables[0].newColumns, [], "no column renamed or added on a later run");
    assert.deepEqual(second, [], "each WARNING once");
    await check();
  } finally {
    await running.close();
  }
}

test("SQLite: odd and colliding field names each get their own column, values kept exactly", async () => {
  const path = join(dir, "odd.db");
  await check(`sqlite:${path}`, sqliteReader(path), join(dir, "sqlite"));
});

test("PostgreSQL: odd and colliding field names each get their own column, values kept exactly", {
  skip: postgresSkip(),
}, async () => {
  pgDb = await pg.sql();
  await check(pg.url("schema=odd"), pgReader("odd"), join(dir, "pg"));
});
