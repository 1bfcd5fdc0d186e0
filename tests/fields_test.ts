import { after, describe, postgresSkip, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type Config, parseConfig, redactConfig } from "../src/config/mod.ts";
import { createLogger } from "../src/core/log.ts";
import { runSync } from "../src/jobs/sync.ts";
import { runScrub } from "../src/jobs/scrub.ts";
import { applyFieldRules, hashValue } from "../src/sync/fields.ts";
import { NOT_KEPT } from "../src/sync/rejects.ts";
import { openSink } from "../src/sink/mod.ts";
import { type RunningSimulator, simulatorConfig, startSimulator } from "../src/simulator/mod.ts";
import { sqliteRows, tempDir } from "./_helpers.ts";
import { TestDatabase } from "./_postgres.ts";

const KEY = "hash-key-0123456789abcdef";
const dir = tempDir("act-sync-fields-");
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

const RULES = {
  exclude_fields: { contacts: ["emailAddress", "customFields.user7", "homeAddress"] },
  hash_fields: { contacts: ["businessPhone", "customFields.user1"] },
};

function configFor(sim: RunningSimulator, destination?: string, extra = {}): Config {
  const where = join(dir, `f${++counter}`);
  return parseConfig(
    simulatorConfig(sim.url, {
      destination: destination ?? `sqlite:${join(where, "act.db")}`,
      state_file: join(where, "state.json"),
      tables: ["contacts", "companies"],
      max_retries: 0,
      ...RULES,
      ...extra,
    }),
    { baseDir: where, env: { ACT_HASH_KEY: KEY } },
  ).config;
}

async function sync(config: Config): Promise<string[]> {
  const lines: string[] = [];
  const logger = createLogger({ level: "FINE", write: (l) => lines.push(l) });
  const run = await runSync(config, {}, { logger });
  assert.equal(run.ok, true, run.error ?? JSON.stringify(run.tables));
  return lines;
}

/** The values an excluded field holds in the simulator (non-empty ones). */
function excludedValues(sim: RunningSimulator): string[] {
  const out: string[] = [];
  for (const row of sim.sim.rows("contacts")) {
    if (row.emailAddress) out.push(String(row.emailAddress));
    const custom = row.customFields as Record<string, unknown>;
    if (custom.user7) out.push(String(custom.user7));
    const home = row.homeAddress as Record<string, unknown> | null;
    if (home?.line1) out.push(String(home.line1));
  }
  return out;
}

describe("applyFieldRules()", () => {
  test("removes excluded paths and hashes others, nested ones too, leaving the record as it was", () => {
    const record = { id: "1", a: "x", b: { c: "y", d: 5 }, e: null, f: "keep" };
    const out = applyFieldRules(record, { exclude: ["a", "b.c"], hash: ["b.d", "e"], key: KEY });
    assert.deepEqual(out, {
      id: "1",
      b: { d: createHmac("sha256", KEY).update("5").digest("hex") },
      e: null,
      f: "keep",
    });
    assert.deepEqual(record, { id: "1", a: "x", b: { c: "y", d: 5 }, e: null, f: "keep" });
    assert.equal(hashValue("y", KEY), createHmac("sha256", KEY).update("y").digest("hex"));
  });
});

describe("exclude_fields and hash_fields in the configuration", () => {
  test("hash_fields needs ACT_HASH_KEY; an unknown table names the closest; the key is redacted", () => {
    const base = { hostname: "a.example", username: "u", password: "p", database_name: "d" };
    assert.throws(
      () => parseConfig({ ...base, ...RULES }, { baseDir: "." }),
      /'hash_key' is missing: 'hash_fields' needs a secret key; set ACT_HASH_KEY/,
    );
    assert.throws(
      () => parseConfig({ ...base, exclude_fields: { contact: ["x"] } }, { baseDir: "." }),
      /'exclude_fields' has an unknown table "contact": did you mean "contacts"\?/,
    );
    const { config } = parseConfig({ ...base, ...RULES }, {
      baseDir: ".",
      env: { ACT_HASH_KEY: KEY },
    });
    assert.equal(config.hash_key, KEY);
    assert.ok(!JSON.stringify(redactConfig(config)).includes(KEY));
  });
});

describe("excluded and hashed fields in the destination", () => {
  test("SQLite: excluded fields are stored nowhere, even on a first sync; hashes are stable", async () => {
    const sim = await startSimulator({ records: 40, seed: 21 });
    try {
      const config = configFor(sim);
      const lines = await sync(config);
      const db = config.destination.slice("sqlite:".length);
      const rows = sqliteRows(db, "contacts");
      assert.equal(rows.size, sim.sim.count("contacts"));
      const columns = Object.keys([...rows.values()][0]);
      for (const gone of ["emailAddress", "customFields_user7", "homeAddress_line1"]) {
        assert.ok(!columns.includes(gone), `${gone} in ${columns.join(",")}`);
      }
      for (const source of sim.sim.rows("contacts")) {
        const row = rows.get(String(source.id))!;
        assert.equal(row.businessPhone, hashValue(source.businessPhone, KEY));
        const user1 = (source.customFields as Record<string, unknown>).user1;
        assert.equal(row.customFields_user1, user1 === null ? null : hashValue(user1, KEY));
      }
      // Nowhere: not in the database files, the state file or the log.
      const values = excludedValues(sim);
      assert.ok(values.length > 40, `${values.length} excluded values`);
      const folder = join(db, "..");
      const stored = readdirSync(folder).map((f) =>
        readFileSync(join(folder, f)).toString("latin1")
      )
        .join("\n") + lines.join("\n");
      for (const value of values) assert.ok(!stored.includes(value), `${value} is stored`);

      // A second run after changes: the same value hashes the same, in any row.
      const [first] = sim.sim.rows("contacts");
      const hashed = rows.get(String(first.id))!.businessPhone;
      sim.sim.edit("contacts", String(first.id), { lastName: "Changed" });
      const added = sim.sim.insert("contacts", { businessPhone: first.businessPhone });
      await sync(config);
      const again = sqliteRows(db, "contacts");
      assert.equal(again.get(String(first.id))!.lastName, "Changed");
      assert.equal(again.get(String(first.id))!.businessPhone, hashed);
      assert.equal(again.get(String(added.id))!.businessPhone, hashed);
    } finally {
      await sim.close();
    }
  });

  test("a path that matches no field is a WARNING naming the closest real field", async () => {
    const sim = await startSimulator({ records: 10, seed: 22 });
    try {
      const config = configFor(sim, undefined, {
        exclude_fields: { contacts: ["emailAdress"] },
        hash_fields: {},
      });
      const lines = await sync(config);
      const warning = lines.filter((l) => l.includes("WARNING"));
      assert.equal(warning.length, 1, lines.join("\n"));
      assert.match(
        warning[0],
        /'exclude_fields' of table contacts names "emailAdress", which no record has: did you mean "emailAddress"\?/,
      );
    } finally {
      await sim.close();
    }
  });

  test("PostgreSQL: the same columns are missing and the same hashes are stored as in SQLite", {
    skip: postgresSkip(),
  }, async () => {
    const sim = await startSimulator({ records: 30, seed: 23 });
    const pg = new TestDatabase("fields");
    try {
      const lite = configFor(sim);
      await sync(lite);
      const sql = await pg.sql();
      const config = configFor(sim, pg.url());
      const lines = await sync(config);
      const columns = (await sql`
        SELECT column_name FROM information_schema.columns WHERE table_name = 'contacts'
      `).map((r) => r.column_name as string);
      assert.ok(columns.includes("businessPhone"), columns.join(","));
      for (const gone of ["emailAddress", "customFields_user7", "homeAddress_line1"]) {
        assert.ok(!columns.includes(gone), `${gone} in PostgreSQL`);
      }
      const stored = await sql`SELECT * FROM contacts`;
      const text = JSON.stringify(stored) + lines.join("\n");
      for (const value of excludedValues(sim)) assert.ok(!text.includes(value), value);
      const fromLite = sqliteRows(lite.destination.slice("sqlite:".length), "contacts");
      assert.equal(stored.length, fromLite.size);
      for (const row of stored) {
        const other = fromLite.get(String(row.id))!;
        assert.equal(row.businessPhone, other.businessPhone);
        assert.equal(row.customFields_user1, other.customFields_user1);
      }
    } finally {
      await pg.drop();
      await sim.close();
    }
  });

  test("records kept in _act_rejected hold no excluded field and their hashed fields hashed, in both sinks", async () => {
    const sim = await startSimulator({ records: 30, seed: 25 });
    const pg = postgresSkip() ? null : new TestDatabase("fields_rejected");
    try {
      if (pg) await pg.sql();
      const poisoned = sim.sim.rows("contacts").filter((r) => r.emailAddress && r.businessPhone)
        .slice(0, 3);
      const kinds = ["bad-edited", "deep", "not-json"] as const;
      poisoned.forEach((row, i) => sim.sim.switches.poison[String(row.id)] = kinds[i]);
      for (const destination of [undefined, ...(pg ? [pg.url()] : [])]) {
        const config = configFor(sim, destination);
        const lines = await sync(config);
        const sink = await openSink(config.destination);
        const kept = await sink.rejected().finally(() => sink.close());
        assert.deepEqual(
          kept.map((k) => k.id).sort(),
          poisoned.map((r) => String(r.id)).sort(),
          JSON.stringify(kept),
        );
        for (const entry of kept) {
          const source = poisoned.find((r) => String(r.id) === entry.id)!;
          if (sim.sim.switches.poison[entry.id!] === "not-json") {
            assert.equal(entry.raw, NOT_KEPT);
            continue;
          }
          const record = JSON.parse(entry.raw);
          assert.equal(record.emailAddress, undefined, entry.raw.slice(0, 200));
          assert.equal(record.homeAddress, undefined);
          assert.equal(record.customFields.user7, undefined);
          assert.equal(record.businessPhone, hashValue(source.businessPhone, KEY));
        }
        const text = JSON.stringify(kept) + lines.join("\n");
        for (const row of poisoned) {
          assert.ok(!text.includes(String(row.emailAddress)), `${row.emailAddress} is kept`);
          assert.ok(!text.includes(String(row.businessPhone)), `${row.businessPhone} is kept`);
        }
      }
    } finally {
      await pg?.drop();
      await sim.close();
    }
  });

  test("act-sync scrub clears excluded and hashes hashed values already stored, in both sinks", async () => {
    const sim = await startSimulator({ records: 30, seed: 24 });
    const pg = postgresSkip() ? null : new TestDatabase("scrub");
    // Records kept in _act_rejected before the rules were set: scrub rewrites their text too.
    const poisoned = sim.sim.rows("contacts").filter((r) => r.emailAddress && r.businessPhone)
      .slice(0, 2);
    sim.sim.switches.poison[String(poisoned[0].id)] = "bad-edited";
    sim.sim.switches.poison[String(poisoned[1].id)] = "not-json";
    try {
      if (pg) await pg.sql();
      const destinations = [undefined, ...(pg ? [pg.url()] : [])];
      for (const destination of destinations) {
        const plain = configFor(sim, destination, { exclude_fields: {}, hash_fields: {} });
        await sync(plain);
        const config = { ...configFor(sim, destination), state_file: plain.state_file };
        if (!destination) config.destination = plain.destination;
        const lines: string[] = [];
        const out: string[] = [];
        const logger = createLogger({ level: "INFO", write: (l) => lines.push(l) });
        const run = await runScrub(config, { logger, stdout: (t) => out.push(t) });
        assert.equal(run.ok, true, run.error ?? "");
        const done = Object.fromEntries(run.columns.map((c) => [c.column, c.action]));
        assert.equal(done.emailAddress, "cleared");
        assert.equal(done.customFields_user7, "cleared");
        assert.equal(done.homeAddress_line1, "cleared");
        assert.equal(done.businessPhone, "hashed");
        assert.match(out.join(""), /contacts +businessPhone +hashed +\d+/);
        assert.match(out.join(""), /contacts +_act_rejected\.raw +cleared +2\n/);
        const sink = await openSink(config.destination);
        const kept = await sink.rejected().finally(() => sink.close());
        assert.equal(kept.length, 2);
        const [badEdited, notJson] = poisoned.map((p) => kept.find((k) => k.id === String(p.id))!);
        assert.equal(notJson.raw, NOT_KEPT);
        const record = JSON.parse(badEdited.raw);
        assert.equal(record.emailAddress, undefined);
        assert.equal(record.edited, "not a date");
        assert.equal(record.businessPhone, hashValue(poisoned[0].businessPhone, KEY));
        const sql = destination ? await pg!.sql() : null;
        const stored = sql
          ? await sql`SELECT * FROM contacts`
          : [...sqliteRows(config.destination.slice("sqlite:".length), "contacts").values()];
        for (const row of stored) {
          const source = sim.sim.rows("contacts").find((r) => String(r.id) === String(row.id))!;
          assert.equal(row.emailAddress, null);
          assert.equal(row.businessPhone, hashValue(source.businessPhone, KEY));
        }
        if (!destination) {
          const folder = join(config.destination.slice("sqlite:".length), "..");
          const bytes = readdirSync(folder).filter((f) => f.includes(".db"))
            .map((f) => readFileSync(join(folder, f)).toString("latin1")).join("\n");
          for (const value of excludedValues(sim)) {
            assert.ok(!bytes.includes(value), `${value} still in the SQLite file`);
          }
        }
        // A second scrub changes nothing; a sync with the rules keeps the same hashes.
        const again = await runScrub(config, { logger, stdout: () => {} });
        assert.ok(again.columns.every((c) => c.action === "cleared" || c.rows === 0));
        assert.ok(!again.columns.some((c) => c.column === "_act_rejected.raw"), "rewritten twice");
        await sync(config);
      }
    } finally {
      await pg?.drop();
      await sim.close();
    }
  });
});
