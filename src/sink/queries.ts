/**
 * The example report queries of docs/reporting.md, over the `_live` views and link tables. Each
 * has one text for SQLite and one for PostgreSQL (the same when the SQL is); every one also runs
 * as written on a published copy through the SQLite ODBC driver.
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

/** The latest history of the company or of any of its contacts. */
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

const LAST_CONTACT_COMPANY =
  `SELECT co.id AS company_id, co.name AS company, max(h."startTime") AS last_contact
FROM companies_live co
LEFT JOIN history_companies_live hc ON hc.company_id = co.id
LEFT JOIN history_live h ON h.id = hc.history_id
GROUP BY co.id, co.name
ORDER BY last_contact DESC NULLS LAST, company_id`;

const LAST_CONTACT_CONTACTS =
  `SELECT co.id AS company_id, co.name AS company, max(h."startTime") AS last_contact
FROM companies_live co
LEFT JOIN contacts_live c ON c."companyID" = co.id
LEFT JOIN history_contacts_live hc ON hc.contact_id = c.id
LEFT JOIN history_live h ON h.id = hc.history_id
GROUP BY co.id, co.name
ORDER BY last_contact DESC NULLS LAST, company_id`;

/** The first contact of an opportunity's list (link position 0) is its primary contact. */
const PRIMARY_CONTACT =
  `SELECT o."stage_name" AS stage, o.id AS opportunity_id, c."fullName" AS primary_contact,
       co.name AS company
FROM opportunities_live o
LEFT JOIN opportunity_contacts_live oc ON oc.opportunity_id = o.id AND oc.position = 0
LEFT JOIN contacts_live c ON c.id = oc.contact_id
LEFT JOIN companies_live co ON co.id = c."companyID"
WHERE o.status = 0
ORDER BY stage, opportunity_id`;

/** The example queries, in the order of docs/reporting.md. */
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
    title: "Last contact per company (its own history or its contacts')",
    sqlite: LAST_CONTACT,
    postgres: LAST_CONTACT,
  },
  lastContactCompanyHistory: {
    title: "Last history recorded against the company",
    sqlite: LAST_CONTACT_COMPANY,
    postgres: LAST_CONTACT_COMPANY,
  },
  lastContactThroughContacts: {
    title: "Last history of the company's contacts",
    sqlite: LAST_CONTACT_CONTACTS,
    postgres: LAST_CONTACT_CONTACTS,
  },
  primaryContact: {
    title: "Open opportunities with their primary contact and its company",
    sqlite: PRIMARY_CONTACT,
    postgres: PRIMARY_CONTACT,
  },
} as const satisfies Record<string, ReportQuery>;
