/**
 * The example report queries of the README's "Reporting" section, over the `_live` views and
 * link tables. Each has one text for SQLite and one for PostgreSQL (the same when the SQL is).
 *
 * @module
 */

/** One example query. */
export interface ReportQuery {
  /** What it answers. */
  title: string;
  sqlite: string;
  postgres: string;
}

const PIPELINE = `SELECT "stage_name" AS stage, count(*) AS opportunities,
       sum("productTotal") AS total, sum("weightedTotal") AS weighted
FROM opportunities_live
WHERE status = 0
GROUP BY "stage_name"
ORDER BY stage`;

const WON = (quarter: string) =>
  `SELECT manager,
       ${quarter} AS quarter,
       count(*) AS won, sum("productTotal") AS revenue
FROM opportunities_live
WHERE status = 1
GROUP BY manager, quarter
ORDER BY quarter, manager`;

const PRODUCTS = `SELECT p.name AS product, sum(p.quantity) AS quantity, sum(p.total) AS revenue
FROM opportunity_products_live p
JOIN opportunities_live o ON o.id = p."opportunityID"
WHERE o.status = 1
GROUP BY p.name
ORDER BY revenue DESC, product`;

const WEEKLY = (week: string) =>
  `SELECT "scheduledFor" AS "user",
       ${week} AS week,
       count(*) AS activities
FROM activities_live
GROUP BY "scheduledFor", week
ORDER BY week, "user"`;

const LAST_CONTACT =
  `SELECT co.id AS company_id, co.name AS company, max(h."startTime") AS last_contact
FROM companies_live co
LEFT JOIN history_companies_live hc ON hc.company_id = co.id
LEFT JOIN history_live h ON h.id = hc.history_id
GROUP BY co.id, co.name
ORDER BY last_contact DESC NULLS LAST, company_id`;

/** The five example queries, in the README's order. */
export const REPORT_QUERIES = {
  pipelineByStage: { title: "Pipeline by stage", sqlite: PIPELINE, postgres: PIPELINE },
  wonRevenueByManager: {
    title: "Won revenue by manager per quarter",
    sqlite: WON(
      `strftime('%Y', "actualCloseDate") || '-Q' || ` +
        `((CAST(strftime('%m', "actualCloseDate") AS INTEGER) + 2) / 3)`,
    ),
    postgres: WON(`to_char("actualCloseDate" AT TIME ZONE 'UTC', 'YYYY-"Q"Q')`),
  },
  productsOnWonOpportunities: {
    title: "Products on won opportunities",
    sqlite: PRODUCTS,
    postgres: PRODUCTS,
  },
  activitiesPerUserPerWeek: {
    title: "Activities per user per week (weeks start on Monday, UTC)",
    sqlite: WEEKLY(`date("startTime", 'weekday 0', '-6 days')`),
    postgres: WEEKLY(`to_char(date_trunc('week', "startTime" AT TIME ZONE 'UTC'), 'YYYY-MM-DD')`),
  },
  lastContactPerCompany: {
    title: "Last contact date per company (its latest history)",
    sqlite: LAST_CONTACT,
    postgres: LAST_CONTACT,
  },
} as const satisfies Record<string, ReportQuery>;
