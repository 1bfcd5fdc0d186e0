import { after, before, describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { REPORT_QUERIES } from "../src/sink/queries.ts";
import { type RunningSimulator, startSimulator } from "../src/simulator/mod.ts";
import { runCliProcess, tempDir } from "./_helpers.ts";
import {
  postgresDestination,
  reconcileInto,
  type Rows,
  sqliteDestination,
  syncInto,
  utc,
} from "./_report_db.ts";

// The example queries of docs/reporting.md, run against a synced simulator database and checked
// against the simulator's records (computed here, independently of the SQL); the queries of last
// contact and primary contacts are checked in report_examples_test.ts.

const dir = tempDir("act-sync-reports-");
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

type Rec = Record<string, unknown>;

/** Rows as sorted lines, numbers rounded to cents. */
function lines(rows: Rows): string[] {
  return rows.map((row) =>
    Object.values(row).map((v) =>
      typeof v === "number" || (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v))
        ? (Math.round(Number(v) * 100) / 100).toFixed(2)
        : String(v)
    ).join(" | ")
  ).sort();
}

/** Group `items` by `key`, summing with `add`. */
function group<T>(items: T[], key: (item: T) => string, add: (acc: number[], item: T) => void) {
  const out = new Map<string, number[]>();
  for (const item of items) {
    const k = key(item);
    if (!out.has(k)) out.set(k, []);
    add(out.get(k)!, item);
  }
  return out;
}

/** Monday of a date's week (UTC), as YYYY-MM-DD. */
function monday(value: unknown): string {
  const d = new Date(String(value));
  const back = (d.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - back))
    .toISOString().slice(0, 10);
}

for (const dest of [sqliteDestination, postgresDestination("reports")]) {
  describe(`${dest.name}: the report queries of docs/reporting.md`, { skip: dest.skip }, () => {
    let running: RunningSimulator;
    let url: string;
    const run = (name: keyof typeof REPORT_QUERIES) =>
      dest.query(url, REPORT_QUERIES[name][dest.name === "SQLite" ? "sqlite" : "postgres"]);

    before(async () => {
      await dest.ready();
      running = await startSimulator({ records: 200, seed: 11, counts: { opportunities: 150 } });
      const n = ++counter;
      url = dest.create(join(dir, `d${n}`), n);
      await syncInto(running, url, join(dir, `state${n}.json`), [
        "contacts",
        "companies",
        "opportunities",
        "activities",
        "history",
        "opportunity_products",
      ]);
      // Between runs: the latest history of a company deleted (reconcile marks it), another
      // history moved to a company, a line item removed from a won opportunity.
      const sim = running.sim;
      const linked = sim.rows("history").filter((h) => (h.companies as Rec[]).length > 0);
      const latest = linked.reduce((a, b) =>
        Date.parse(String(a.startTime)) >= Date.parse(String(b.startTime)) ? a : b
      );
      assert.ok(sim.remove("history", String(latest.id)));
      const company = sim.rows("companies")[3];
      sim.edit("history", String(linked[0].id), {
        companies: [{ id: company.id, name: company.name }],
      });
      const won = sim.rows("opportunities").find((o) =>
        o.status === 1 && (sim.lineItems.of(String(o.id)) ?? []).length > 1
      )!;
      sim.lineItems.remove(String(won.id), String(sim.lineItems.of(String(won.id))![0].id));
      sim.insert("companies", { name: "Never Called Ltd" }); // a company without history
      const state = join(dir, `state${n}.json`);
      await syncInto(running, url, state, [
        "companies",
        "opportunities",
        "history",
        "opportunity_products",
      ]);
      await reconcileInto(running, url, ["history"]);
    });
    after(async () => {
      await running.close();
      await dest.close();
    });

    test("pipeline by stage", async () => {
      const open = running.sim.rows("opportunities").filter((o) => o.status === 0);
      const want = group(open, (o) => String((o.stage as Rec).name), (acc, o) => {
        acc[0] = (acc[0] ?? 0) + 1;
        acc[1] = (acc[1] ?? 0) + Number(o.productTotal);
        acc[2] = (acc[2] ?? 0) + Number(o.weightedTotal);
      });
      assert.ok(want.size > 1);
      const rows = [...want].map(([stage, [n, total, weighted]]) => ({
        stage,
        n,
        total,
        weighted,
      }));
      assert.deepEqual(lines(await run("pipelineByStage")), lines(rows));
    });

    test("won revenue by manager per quarter", async () => {
      const won = running.sim.rows("opportunities").filter((o) => o.status === 1);
      const want = group(won, (o) => {
        const d = new Date(String(o.actualCloseDate));
        const quarter = `${d.getUTCFullYear()}-Q${Math.floor(d.getUTCMonth() / 3) + 1}`;
        return `${o.manager}\t${quarter}`;
      }, (acc, o) => {
        acc[0] = (acc[0] ?? 0) + 1;
        acc[1] = (acc[1] ?? 0) + Number(o.productTotal);
      });
      assert.ok(want.size > 1);
      const rows = [...want].map(([k, [n, revenue]]) => {
        const [manager, quarter] = k.split("\t");
        return { manager, quarter, n, revenue };
      });
      assert.deepEqual(lines(await run("wonRevenueByManager")), lines(rows));
    });

    test("products on won opportunities (the synced line items)", async () => {
      const won = new Set(
        running.sim.rows("opportunities").filter((o) => o.status === 1).map((o) => o.id),
      );
      const items = running.sim.rows("opportunity_products").filter((li) =>
        won.has(li.opportunityID)
      );
      assert.ok(items.length > 10, "won opportunities have line items");
      const want = group(items, (li) => String(li.name), (acc, li) => {
        acc[0] = (acc[0] ?? 0) + Number(li.quantity);
        acc[1] = (acc[1] ?? 0) + Number(li.total);
      });
      assert.ok(want.size > 1);
      const rows = [...want].map(([name, [quantity, revenue]]) => ({ name, quantity, revenue }));
      assert.deepEqual(lines(await run("productsOnWonOpportunities")), lines(rows));
    });

    test("activities per user per week", async () => {
      const want = group(
        running.sim.rows("activities"),
        (a) => `${a.scheduledFor}\t${monday(a.startTime)}`,
        (acc) => {
          acc[0] = (acc[0] ?? 0) + 1;
        },
      );
      const rows = [...want].map(([k, [n]]) => {
        const [user, week] = k.split("\t");
        return { user, week, n };
      });
      assert.deepEqual(lines(await run("activitiesPerUserPerWeek")), lines(rows));
    });

    test("last contact date per company (history linked to it)", async () => {
      const sim = running.sim;
      const names = new Map(sim.rows("companies").map((c) => [String(c.id), c.name]));
      const last = new Map<string, number>();
      for (const h of sim.rows("history")) {
        for (const company of h.companies as Rec[]) {
          const at = Date.parse(String(h.startTime));
          const id = String(company.id);
          if (names.has(id) && at > (last.get(id) ?? -Infinity)) last.set(id, at);
        }
      }
      assert.ok(last.size > 1 && last.size < names.size, "a company has no history");
      const rows = [...names].map(([id, name]) => ({
        id,
        name,
        at: last.has(id) ? utc(new Date(last.get(id)!).toISOString()) : null,
      }));
      const got = (await run("lastContactCompanyHistory")).map((r) => ({
        ...r,
        last_contact: utc(r.last_contact),
      }));
      assert.deepEqual(lines(got), lines(rows));
      // Most recent first, companies never contacted last.
      const order = got.map((r) => r.last_contact);
      const firstNull = order.indexOf(null);
      assert.ok(firstNull > 0 && order.slice(firstNull).every((v) => v === null));
      const dated = order.slice(0, firstNull) as string[];
      assert.deepEqual(dated, [...dated].sort().reverse());
    });

    test("docs/reporting.md shows exactly the queries run here", () => {
      const page = readFileSync(new URL("../docs/reporting.md", import.meta.url), "utf8");
      const blocks = [...page.matchAll(/^```sql\n([\s\S]*?)^```$/gm)]
        .map((m) => m[1].trim().replace(/;$/, ""));
      const run = Object.values(REPORT_QUERIES).flatMap((q) => [q.sqlite, q.postgres]);
      assert.deepEqual([...new Set(blocks)].sort(), [...new Set(run)].sort());
      assert.equal(blocks.length, new Set(blocks).size, "a query is shown twice");
    });
  });
}

test("act-sync demo prints two report queries with their results", async () => {
  const cwd = join(dir, "demo");
  mkdirSync(cwd, { recursive: true });
  const result = await runCliProcess(["demo", "--records", "200"], { cwd, timeoutMs: 120_000 });
  assert.equal(result.code, 0, result.stderr);
  for (const query of [REPORT_QUERIES.pipelineByStage, REPORT_QUERIES.activitiesPerUserPerWeek]) {
    assert.ok(result.stdout.includes(`${query.title}:`), query.title);
  }
  assert.match(result.stdout, /\n {2}stage +opportunities +total +weighted\n/);
  assert.match(result.stdout, /\n {2}user +week +activities\n/);
  // The opportunities the demo wins have a close date, so they fall in a quarter.
  const db = new DatabaseSync(join(cwd, "demo", "act.db"), { readOnly: true });
  try {
    const [{ n }] = db.prepare(
      `SELECT count(*) AS n FROM opportunities_live WHERE status = 1 AND "actualCloseDate" IS NULL`,
    ).all() as { n: number }[];
    assert.equal(n, 0);
  } finally {
    db.close();
  }
});
