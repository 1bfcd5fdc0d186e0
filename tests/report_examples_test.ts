// The reporting docs' example queries for last contact per company and the primary contact: each
// runs on both sinks and, through the SQLite ODBC driver, on the published copy, and gives the
// answer worked out from the simulator's records. Every other example query runs on the
// published copy through the driver too, with the answer SQLite gives on the working file.
import { after, before, describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { TableName } from "../src/act/tables.ts";
import { type RunningSimulator, startSimulator } from "../src/simulator/mod.ts";
import { REPORT_QUERIES } from "../src/sink/queries.ts";
import { writeSnapshot } from "../src/sink/snapshot.ts";
import { tempDir } from "./_helpers.ts";
import { odbcQuery, odbcSkip } from "./_odbc.ts";
import { postgresDestination, type Rows, sqliteDestination, syncInto, utc } from "./_report_db.ts";

const dir = tempDir("act-sync-report-examples-");
after(() => rmSync(dir, { recursive: true, force: true }));

const LAST_CONTACT_COMPANY_HISTORY = REPORT_QUERIES.lastContactCompanyHistory.sqlite;
const LAST_CONTACT_THROUGH_CONTACTS = REPORT_QUERIES.lastContactThroughContacts.sqlite;
const LAST_CONTACT = REPORT_QUERIES.lastContactPerCompany.sqlite;
const PRIMARY_CONTACT = REPORT_QUERIES.primaryContact.sqlite;
for (const query of Object.values(REPORT_QUERIES).slice(-4)) {
  assert.equal(query.postgres, query.sqlite, `${query.title}: the same SQL on both sinks`);
}

const TABLES: TableName[] = [
  "contacts",
  "companies",
  "opportunities",
  "activities",
  "history",
  "opportunity_products",
];

type Rec = Record<string, unknown>;

/** The expected answers, from the simulator's records. */
function expected(sim: RunningSimulator["sim"]) {
  const history = sim.rows("history");
  const contacts = sim.rows("contacts");
  const companies = sim.rows("companies");
  const companyOf = new Map(contacts.map((c) => [String(c.id), String(c.companyID ?? "")]));
  const direct = new Map<string, string>(), through = new Map<string, string>();
  const later = (map: Map<string, string>, key: string, when: string) => {
    const old = map.get(key);
    if (old === undefined || old < when) map.set(key, when);
  };
  for (const h of history) {
    const when = utc(h.startTime)!;
    for (const co of h.companies as Rec[]) later(direct, String(co.id), when);
    for (const c of h.contacts as Rec[]) {
      const company = companyOf.get(String(c.id));
      if (company) later(through, company, when);
    }
  }
  const either = new Map(direct);
  for (const [k, v] of through) later(either, k, v);
  const answer = (map: Map<string, string>) =>
    new Map(companies.map((co) => [String(co.id), map.get(String(co.id)) ?? null]));
  const byId = new Map(contacts.map((c) => [String(c.id), c]));
  const names = new Map(companies.map((co) => [String(co.id), String(co.name)]));
  const primary = new Map<string, Rec>();
  for (const o of sim.rows("opportunities")) {
    if (o.status !== 0) continue;
    const first = (o.contacts as Rec[])[0];
    const c = first ? byId.get(String(first.id)) : undefined;
    const company = c && c.companyID ? names.get(String(c.companyID)) ?? null : null;
    primary.set(String(o.id), {
      primary_contact: c ? String(c.fullName) : null,
      company: company === "" ? null : company,
    });
  }
  return { direct: answer(direct), through: answer(through), either: answer(either), primary };
}

/** company id → last contact (UTC ISO text or null) from query rows. */
function lastContacts(rows: Rows): Map<string, string | null> {
  return new Map(rows.map((r) => [String(r.company_id), utc(r.last_contact)]));
}

for (const dest of [sqliteDestination, postgresDestination("rexamples")]) {
  describe(`${dest.name}: last contact per company, primary contacts`, { skip: dest.skip }, () => {
    let running: RunningSimulator;
    let url: string;
    before(async () => {
      await dest.ready();
      running = await startSimulator({ records: 150, seed: 21 });
      url = dest.create(join(dir, `d-${dest.name}`), 1);
      await syncInto(running, url, join(dir, `state-${dest.name}.json`), TABLES);
    });
    after(async () => {
      await running.close();
      await dest.close();
    });

    test("the two routes differ; the recommended query takes the latest of both", async () => {
      const want = expected(running.sim);
      const direct = lastContacts(await dest.query(url, LAST_CONTACT_COMPANY_HISTORY));
      const through = lastContacts(await dest.query(url, LAST_CONTACT_THROUGH_CONTACTS));
      const either = lastContacts(await dest.query(url, LAST_CONTACT));
      assert.deepEqual(direct, want.direct);
      assert.deepEqual(through, want.through);
      assert.deepEqual(either, want.either);
      const differ = [...direct.keys()].filter((k) => direct.get(k) !== through.get(k));
      assert.ok(differ.length > 0, "the two routes give different answers for some companies");
    });

    test("history durations come as a number of minutes too", async () => {
      const rows = await dest.query(url, `SELECT duration, duration_minutes FROM history_live`);
      assert.equal(rows.length, running.sim.count("history"));
      for (const { duration, duration_minutes } of rows) {
        const [h, m, s] = String(duration).split(":").map(Number);
        assert.equal(Number(duration_minutes), h * 60 + m + s / 60, String(duration));
      }
    });

    test("primary contact: the link with position 0", async () => {
      const want = expected(running.sim).primary;
      const rows = await dest.query(url, PRIMARY_CONTACT);
      assert.equal(rows.length, want.size);
      for (const row of rows) {
        assert.deepEqual(
          { primary_contact: row.primary_contact, company: row.company },
          want.get(String(row.opportunity_id)),
          `opportunity ${row.opportunity_id}`,
        );
      }
    });
  });
}

describe("the published copy through the ODBC driver", { skip: odbcSkip() }, () => {
  let running: RunningSimulator;
  let db: string;
  let copy: string;
  before(async () => {
    running = await startSimulator({ records: 150, seed: 21 });
    db = join(dir, "odbc.db");
    await syncInto(running, `sqlite:${db}`, join(dir, "odbc-state.json"), TABLES);
    copy = join(dir, "published.db");
    writeSnapshot(db, copy);
  });

  test("every query of docs/reporting.md runs as written and answers as on the file", async () => {
    const queries = Object.values(REPORT_QUERIES).map((q) => q.sqlite);
    const results = odbcQuery(copy, queries);
    for (const [i, sql] of queries.entries()) {
      const direct = await sqliteDestination.query(`sqlite:${db}`, sql);
      assert.ok(direct.length > 0, `${sql}: rows`);
      const viaOdbc = results[i].rows.map((row) => row.map((v) => plain(plainDate(v))));
      const want = direct.map((row) => Object.values(row).map(plain));
      assert.deepEqual(viaOdbc, want, sql);
    }
  });
  after(() => running.close());

  test("last contact and primary contacts give the answers of the records", () => {
    const want = expected(running.sim);
    const [direct, through, either, primary] = odbcQuery(copy, [
      LAST_CONTACT_COMPANY_HISTORY,
      LAST_CONTACT_THROUGH_CONTACTS,
      LAST_CONTACT,
      PRIMARY_CONTACT,
    ]);
    const asMap = (result: { rows: unknown[][] }) =>
      new Map(result.rows.map((r) => [String(r[0]), utc(plainDate(r[2]))]));
    assert.deepEqual(asMap(direct), want.direct);
    assert.deepEqual(asMap(through), want.through);
    assert.deepEqual(asMap(either), want.either);
    assert.equal(primary.rows.length, want.primary.size);
  });
});

/**
 * A value to compare: date-time text as UTC text, booleans as 0/1 (as `dest.query` gives),
 * numbers to 6 decimals (the driver sends a REAL with 15 significant digits).
 */
function plain(value: unknown): unknown {
  if (typeof value === "boolean") return Number(value);
  if (typeof value === "number") return Math.round(value * 1e6) / 1e6;
  return typeof value === "string" && /^\d{4}-\d\d-\d\dT\d\d:/.test(value) ? utc(value) : value;
}

/** A value from the ODBC helper: `{ datetime }` objects as UTC text. */
function plainDate(value: unknown): unknown {
  if (value && typeof value === "object" && "datetime" in value) {
    return `${(value as { datetime: string }).datetime}Z`;
  }
  return value;
}
