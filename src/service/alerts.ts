/**
 * Which alerts to send, once per event: {@linkcode detectAlerts} compares what a finished run and
 * `/health` say with the events already alerted (kept beside the state file, so a restart does
 * not repeat them) and returns the new alerts. A failure that lasts ten runs is one alert, then
 * one recovery. Pure: the memory comes in and goes out.
 *
 * @module
 */
import type { NotifyEvent } from "../config/mod.ts";
import type { Health, RunRecord } from "./monitor.ts";

/** One alert, in the words the log uses. */
export interface Alert {
  event: NotifyEvent | "test";
  /** One line: what happened. */
  subject: string;
  /** What happened, which tables, the reason, what to do, the status page. */
  text: string;
  tables: string[];
  /** When it was raised (UTC). */
  at: string;
  /** The run it is about, if any. */
  run?: string;
}

/** The events alerted and not yet over, by key (`failure`, `stale`, `mass_delete_guard:contacts`). */
export interface AlertMemory {
  open: Record<string, { at: string; count?: number }>;
}

/** A fresh memory. */
export function emptyMemory(): AlertMemory {
  return { open: {} };
}

/** What {@linkcode detectAlerts} looks at. */
export interface AlertInput {
  /** The run that just ended; null for a periodic check (staleness). */
  record: RunRecord | null;
  /** `/health` now. */
  health: Health;
  /** Per-table staleness: table → the reason, for tables past their `max_staleness`. */
  staleTables?: Record<string, string>;
  /** The events chosen in `notify_on`. */
  events: readonly NotifyEvent[];
  /** Now, UTC. */
  at: string;
  /** The status page's address, when reachable from other machines. */
  statusUrl?: string;
}

const ADVICE: Record<Alert["event"], string> = {
  failure: "Read the reason above and the log ('log_file'); 'act-sync check' tests the Act! " +
    "login and the destination. The service keeps running and tries again on its schedule; " +
    "an alert follows when a run succeeds again",
  recovery: "Nothing: the sync works again",
  mass_delete_guard: "Reconcile found more rows missing in Act! than 'max_delete_fraction' " +
    "allows and marked none deleted. If those rows really were deleted in Act!, run " +
    "'act-sync reconcile TABLE --force'; otherwise check that the Act! server and database are " +
    "the right ones",
  rejected_records: "Records that cannot be stored are kept with their reason in the " +
    "_act_rejected table; correct them in Act! and the next run stores them",
  schema_change: "New columns or tables are in the destination, or field labels changed (the " +
    "<table>_labeled views follow them); reports that list columns or labels may need them",
  stale: "Check that the service runs (the log, 'act-sync state'); the next successful run of " +
    "the table ends this",
  test: "Nothing: this is a test alert sent by 'act-sync notify --test'",
};

/** The alert text: what happened, which tables, the reason, what to do, the status page. */
export function alertText(
  event: Alert["event"],
  parts: { what: string; tables?: string[]; reason?: string | null; statusUrl?: string },
): string {
  const lines = [`What happened: ${parts.what}`];
  if (parts.tables?.length) lines.push(`Tables: ${parts.tables.join(", ")}`);
  if (parts.reason) lines.push(`Reason: ${parts.reason}`);
  lines.push(`What to do: ${ADVICE[event]}`);
  if (parts.statusUrl) lines.push(`Status page: ${parts.statusUrl}`);
  return lines.join("\n");
}

function make(
  event: NotifyEvent,
  subject: string,
  parts: { what: string; tables?: string[]; reason?: string | null },
  input: AlertInput,
): Alert {
  return {
    event,
    subject: `act-sync: ${subject}`,
    text: alertText(event, { ...parts, statusUrl: input.statusUrl }),
    tables: parts.tables ?? [],
    at: input.at,
    ...(input.record ? { run: input.record.id } : {}),
  };
}

/** The new alerts for `input`, and the memory after them. */
export function detectAlerts(
  memory: AlertMemory,
  input: AlertInput,
): { alerts: Alert[]; memory: AlertMemory } {
  const open = { ...memory.open };
  const alerts: Alert[] = [];
  const chosen = (event: NotifyEvent) => input.events.includes(event);
  const { record, health } = input;

  // failure: /health is failing (after `unhealthy_after_failures` failed runs).
  if (health.status === "failing" && chosen("failure") && !open.failure) {
    open.failure = { at: input.at };
    const failed = record?.tables.filter((t) => t.status === "failed") ?? [];
    const reason = record?.error ?? failed.find((t) => t.error)?.error ?? null;
    alerts.push(
      make("failure", "sync failing", {
        what: health.reason ?? "The last run failed",
        tables: failed.map((t) => t.table),
        reason,
      }, input),
    );
  } else if (open.failure && record?.kind === "sync" && record.result === "ok") {
    delete open.failure;
    if (chosen("recovery")) {
      alerts.push(make("recovery", "sync working again", {
        what: `Run ${record.id} finished: every table synced`,
      }, input));
    }
  }

  // stale: the service as a whole, or tables past their `max_staleness`.
  const stale: Record<string, string> = { ...input.staleTables };
  if (health.status === "stale" && !health.stale_tables?.length) {
    stale[""] = health.reason ?? "No run has succeeded for too long";
  }
  for (const [table, reason] of Object.entries(stale)) {
    const key = table ? `stale:${table}` : "stale";
    if (!chosen("stale") || open[key]) continue;
    open[key] = { at: input.at };
    alerts.push(make("stale", table ? `table ${table} is stale` : "no successful run", {
      what: reason,
      tables: table ? [table] : [],
    }, input));
  }
  for (const key of Object.keys(open)) {
    if (key !== "stale" && !key.startsWith("stale:")) continue;
    const table = key === "stale" ? "" : key.slice("stale:".length);
    if (table in stale) continue;
    delete open[key];
    if (chosen("recovery")) {
      alerts.push(make("recovery", table ? `table ${table} is fresh again` : "sync fresh again", {
        what: table ? `Table ${table} synced again` : "A run succeeded again",
        tables: table ? [table] : [],
      }, input));
    }
  }

  if (!record) return { alerts, memory: { open } };

  // mass_delete_guard: a reconcile refused to mark rows deleted; over when that table reconciles.
  if (record.kind === "reconcile") {
    const refused = record.tables.filter((t) => t.status === "refused");
    const fresh = refused.filter((t) => !open[`mass_delete_guard:${t.table}`]);
    for (const t of record.tables) {
      if (t.status === "ok") delete open[`mass_delete_guard:${t.table}`];
    }
    if (fresh.length > 0 && chosen("mass_delete_guard")) {
      for (const t of fresh) open[`mass_delete_guard:${t.table}`] = { at: input.at };
      alerts.push(make("mass_delete_guard", "reconcile refused to mark rows deleted", {
        what: `Reconcile ${record.id} refused to mark rows deleted in ${fresh.length} table(s)`,
        tables: fresh.map((t) => t.table),
        reason: fresh.map((t) => t.error).filter(Boolean).join("; ") || null,
      }, input));
    }
    return { alerts, memory: { open } };
  }

  // rejected_records: a table's count of records kept in _act_rejected went up.
  const grew = [];
  for (const t of record.tables) {
    const key = `rejected_records:${t.table}`;
    const count = t.rows_rejected ?? 0;
    // A table that did not finish may not have read its count: only a finished one clears it.
    if (count === 0) {
      if (t.status === "ok") delete open[key];
    } else if (count > (open[key]?.count ?? 0)) {
      if (chosen("rejected_records")) {
        grew.push(`${t.table} ${count}`);
        open[key] = { at: input.at, count };
      }
    } else open[key] = { ...open[key], count };
  }
  if (grew.length > 0) {
    alerts.push(make("rejected_records", "records could not be stored", {
      what: `Run ${record.id} kept records that cannot be stored in _act_rejected ` +
        `(${grew.join(", ")})`,
      tables: grew.map((g) => g.split(" ")[0]),
    }, input));
  }

  // schema_change: new tables, new columns and changed labels; each is new only once, so no
  // memory is needed.
  const changes = record.tables.filter((t) =>
    t.new_table || t.new_custom || (t.new_columns?.length ?? 0) > 0 || (t.labels_changed ?? 0) > 0
  );
  if (changes.length > 0 && chosen("schema_change")) {
    const what = changes.map((t) =>
      t.new_custom
        ? `new custom table ${t.table} (Act! entity ${JSON.stringify(t.new_custom)})`
        : t.new_table
        ? `new table ${t.table}`
        : t.labels_changed
        ? `Table ${t.table}: ${t.labels_changed} field ${
          t.labels_changed === 1 ? "label" : "labels"
        } new, renamed or removed in Act!`
        : `Table ${t.table}: new columns (${t.new_columns!.join(", ")})`
    );
    alerts.push(make("schema_change", "the destination's tables changed", {
      what: `Run ${record.id}: ${what.join("; ")}`,
      tables: changes.map((t) => t.table),
    }, input));
  }
  return { alerts, memory: { open } };
}
