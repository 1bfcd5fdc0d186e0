// The reporting docs' example queries for last contact per company and the primary contact,
// held here as the docs print them: each runs on both sinks and, through the SQLite ODBC driver,
// on the published copy, and gives the answer worked out from the simulator's records.
import { after, before, describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { TableName } from "../src/act/tables.ts";
import { type RunningSimulator, startSimulator } from "../src/simulator/mod.ts";
import { writeSnapshot } from "../src/sink/snapshot.ts";
import { tempDir } from "./_helpers.ts";
import { odbcQuery, odbcSkip } from "./_odbc.ts";
import { postgresDestination, type Rows, sqliteDestination, syncInto, utc } from "./_report_db.ts";

const dir = tempDir("act-sync-report-examples-");
after(() => rmSync(dir, { recursive: true, force: true }));

/** Last contact per company: history linked to the company itself. */
const LAST_CONTACT_COMPANY_HISTORY =
  `SELECT co.id AS company_id, co.name AS company, max(h."startTime") AS last_contact
FROM companies_live co
LEFT JOIN history_companies_live hc ON hc.company_id = co.id
LEFT JOIN history_live h ON h.id = hc.history_id
GROUP BY co.id, co.name
ORDER BY last_contact DESC NULLS LAST, company_id`;

/** Last contact per company: history linked to any of the company's contacts. */
const LAST_CONTACT_THROUGH_CONTACTS =
  `SELECT co.id AS company_id, co.name AS company, max(h."startTime") AS last_contact
FROM companies_live co
LEFT JOIN contacts_live c ON c."companyID" = co.id
LEFT JOIN history_contacts_live hc ON hc.contact_id = c.id
LEFT JOIN history_live h ON h.id = hc.history_id
GROUP BY co.id, co.name
ORDER BY last_contact DESC NULLS LAST, company_id`;

/** Last contact per company, either route: what an analyst most likely means. */
const LAST_CONTACT = `WITH touches AS (
  SELECT hc.company_id, h."startTime"
  FROM history_companies_live hc
  JOIN history_live h ON h.id = hc.history_id
  UNION ALL
  SELECT c."companyID", h."startTime"
  FROM contacts_live c
  JOIN history_contacts_live hc ON hc.contact_id = c.id
  JOIN history_live h ON h.id = hc.history_id
)
SELECT co.id AS company_id, co.name AS company, max(t."startTime") AS last_contact
FROM companies_live co
LEFT JOIN touches t ON t.company_id = co.id
GROUP BY co.id, co.name
ORDER BY last_contact DESC NULLS LAST, company_id`;

/** Open opportunities per stage with their primary (first) contact's company. */
const PRIMARY_CONTACT =
  `SELECT o."stage_name" AS stage, o.id AS opportunity_id, c."fullName" AS primary_contact,
       co.name AS company
FROM opportunities_live o
LEFT JOIN opportunity_contacts_live oc ON oc.opportunity_id = o.id AND oc.position = 0
LEFT JOIN contacts_live c ON c.id = oc.contact_id
LEFT JOIN companies_live co ON co.id = c."companyID"
WHERE o.status = 0
ORDER BY stage, opportunity_id`;

const TABLES: TableName[] = ["contacts", "companies", "opportunities", "history"];

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
  let copy: string;
  before(async () => {
    running = await startSimulator({ records: 150, seed: 21 });
    const db = join(dir, "odbc.db");
    await syncInto(running, `sqlite:${db}`, join(dir, "odbc-state.json"), TABLES);
    copy = join(dir, "published.db");
    writeSnapshot(db, copy);
  });
  after(() => running.close());

  test("every example query runs and gives the same answer", () => {
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

/** A value from the ODBC helper: `{ datetime }` objects as UTC text. */
function plainDate(value: unknown): unknown {
  if (value && typeof value === "object" && "datetime" in value) {
    return `${(value as { datetime: string }).datetime}Z`;
  }
  return value;
}
