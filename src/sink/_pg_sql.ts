/**
 * Pure helpers of the PostgreSQL sink: connection URL handling, identifiers, type mapping,
 * SQL text and human-readable error messages. No I/O here.
 *
 * @module
 */
import { ConfigError } from "../core/errors.ts";
import { redactUrlCredentials, Secrets } from "../core/secrets.ts";
import { type ColumnType, META_COLUMNS } from "./sink.ts";
import { quoteIdent } from "./_sql.ts";

/** Longest identifier PostgreSQL keeps (NAMEDATALEN - 1 bytes); longer names are cut. */
export const MAX_IDENT_BYTES = 63;

/** Names the sink manages itself; page columns with these names (any case) are ignored. */
export const RESERVED = new Set<string>(["id", ...META_COLUMNS]);

/** PostgreSQL type for each column type. */
export const PG_TYPES: Readonly<Record<ColumnType, string>> = {
  integer: "bigint",
  // Exact decimals: sums of money come out as sent, never as 40692670.13000004.
  real: "numeric",
  boolean: "boolean",
  datetime: "timestamptz",
  json: "jsonb",
  text: "text",
};

/** A parsed `postgres://` destination. */
export interface PgTarget {
  /** The URL handed to the driver: without the `schema` parameter, password included. */
  connectUrl: string;
  /** The URL for messages and logs: no password, no query except `schema`. */
  safeUrl: string;
  /** The schema the tables live in. */
  schema: string;
  /** The user name (decoded). */
  user: string;
  /** The database name (decoded). */
  database: string;
  /** The password (decoded), for redaction. */
  password: string;
}

/**
 * Parse a `postgres://user:password@host:port/db?schema=s` (or `postgresql://`) URL.
 * Throws {@linkcode ConfigError} naming `destination`, never showing the password.
 */
export function parsePgUrl(url: string, schemaOverride?: string): PgTarget {
  const scheme = /^(postgres|postgresql):\/\//i.exec(url);
  if (!scheme) {
    throw new ConfigError([
      `'destination' must start with postgres:// or postgresql://: current value is "${
        redactUrlCredentials(url)
      }"`,
    ]);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError([
      `'destination' is not a valid PostgreSQL URL: current value is "${
        redactUrlCredentials(url)
      }"`,
    ]);
  }
  if (!parsed.hostname) {
    throw new ConfigError([
      `'destination' must name a host (postgres://user:password@host:5432/database): ` +
      `current value is "${redactUrlCredentials(url)}"`,
    ]);
  }
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const schema = schemaOverride ?? parsed.searchParams.get("schema") ?? "public";
  if (schema === "" || schema.includes("\0") || byteLength(schema) > MAX_IDENT_BYTES) {
    throw new ConfigError([
      `'destination' schema must be 1 to ${MAX_IDENT_BYTES} bytes: current value is "${schema}"`,
    ]);
  }
  const password = decode(parsed.password);
  const user = decode(parsed.username);
  const database = decode(parsed.pathname.replace(/^\//, "")) || user;
  parsed.searchParams.delete("schema");
  const connectUrl = parsed.href;
  const safe = new URL(connectUrl);
  safe.password = "";
  safe.search = "";
  if (schema !== "public") safe.searchParams.set("schema", schema);
  return { connectUrl, safeUrl: safe.href, schema, user, database, password };
}

/** A URL string with any `user:password@` reduced to `user@` (for messages about bad URLs). */
export function stripPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*):[^@/?#]*@/i, "$1@");
}

/** The length of `text` in UTF-8 bytes. */
export function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** The column type of an existing PostgreSQL column, from `format_type()` output. */
export function columnTypeOf(pgType: string): ColumnType {
  const type = pgType.toLowerCase();
  if (type === "bigint" || type === "integer" || type === "smallint") return "integer";
  if (type === "double precision" || type === "real" || type.startsWith("numeric")) {
    return "real";
  }
  if (type === "boolean") return "boolean";
  if (type.startsWith("timestamp")) return "datetime";
  if (type === "jsonb" || type === "json") return "json";
  return "text";
}

/**
 * The `ALTER COLUMN … TYPE … USING …` clause widening `column` from `from` to `to`, keeping
 * values readable: date-times become UTC ISO-8601 ending in `Z`, JSON its text, booleans
 * `1`/`0` (as SQLite and every boolean written to a text column).
 */
export function widenClause(column: string, from: ColumnType, to: ColumnType): string {
  const c = quoteIdent(column);
  let using: string;
  if (to === "text" && from === "datetime") {
    const utc = `(${c} AT TIME ZONE 'UTC')`;
    using = `CASE WHEN ${c} IS NULL THEN NULL WHEN date_trunc('second', ${c}) = ${c} ` +
      `THEN to_char(${utc}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') ` +
      `ELSE to_char(${utc}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END`;
  } else if (to === "text" && from === "boolean") {
    using = `CASE WHEN ${c} IS NULL THEN NULL WHEN ${c} THEN '1' ELSE '0' END`;
  } else {
    using = `${c}::${PG_TYPES[to]}`;
  }
  return `ALTER COLUMN ${c} TYPE ${PG_TYPES[to]} USING ${using}`;
}

/**
 * The upsert for a table with these data columns: one statement per chunk, rows passed as one
 * JSON array parameter (`$1`, objects keyed `k` for the id and `c0`, `c1`, … by column position)
 * and the sync time as `$2`. Every column is written, so columns absent from a row become NULL.
 */
export function upsertSql(table: string, columns: readonly [string, ColumnType][]): string {
  const names = ["id", ...columns.map(([name]) => name), "_act_synced"].map(quoteIdent);
  const select = [
    "x.k",
    ...columns.map(([, type], i) => type === "json" ? `x.c${i}::jsonb` : `x.c${i}`),
  ];
  const record = [
    "k text",
    ...columns.map(([, type], i) => `c${i} ${type === "json" ? "text" : PG_TYPES[type]}`),
  ];
  const updates = [...columns.map(([name]) => name), "_act_synced"].map((name) =>
    `${quoteIdent(name)} = EXCLUDED.${quoteIdent(name)}`
  );
  updates.push(`"_act_deleted" = false`, `"_act_deleted_at" = NULL`);
  return `INSERT INTO ${table} (${names.join(", ")}, "_act_deleted", "_act_deleted_at") ` +
    `SELECT ${select.join(", ")}, $2::timestamptz, false, NULL ` +
    `FROM json_to_recordset($1::text::json) AS x(${record.join(", ")}) ` +
    `ON CONFLICT ("id") DO UPDATE SET ${updates.join(", ")}`;
}

/** The `CREATE TABLE` for a new table (id and metadata columns only). */
export function createTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} ("id" text PRIMARY KEY, ` +
    `"_act_synced" timestamptz, "_act_deleted" boolean NOT NULL DEFAULT false, ` +
    `"_act_deleted_at" timestamptz)`;
}

/** The fields of a driver or server error that the messages use. */
interface DriverError {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
  hint?: unknown;
}

/**
 * A message a person can act on for an error from the driver or the server, naming the
 * destination by its password-free URL. `action` is e.g. `connect to` or `write 10 rows to
 * table "contacts" in`.
 */
export function describePgError(error: unknown, action: string, target: PgTarget): string {
  const e = (typeof error === "object" && error !== null ? error : {}) as DriverError;
  const code = typeof e.code === "string" ? e.code : "";
  const raw = typeof e.message === "string" ? e.message : String(error);
  const where = `PostgreSQL at "${target.safeUrl}"`;
  let text: string;
  switch (code) {
    case "ECONNREFUSED":
      text = `Cannot connect to ${where}: connection refused ` +
        `(is the server running and listening on that host and port?)`;
      break;
    case "CONNECT_TIMEOUT":
    case "ETIMEDOUT":
      text = `Cannot connect to ${where}: timed out (check that the host and port belong to a ` +
        `PostgreSQL server and that no firewall blocks the connection)`;
      break;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      text = `Cannot connect to ${where}: host not found (check the host name)`;
      break;
    case "ECONNRESET":
    case "CONNECTION_CLOSED":
    case "CONNECTION_ENDED":
    case "CONNECTION_DESTROYED":
      text = `Cannot ${action} ${where}: the connection was closed (${raw})`;
      break;
    case "28P01":
    case "28000":
      text = `Cannot connect to ${where}: authentication failed for user "${target.user}" ` +
        `(check the user name and password in 'destination'): ${raw}`;
      break;
    case "3D000":
      text = `Cannot connect to ${where}: database "${target.database}" does not exist ` +
        `(create it first, e.g. createdb "${target.database}")`;
      break;
    case "42501":
      text = `Cannot ${action} ${where}: permission denied for user "${target.user}" ` +
        `(grant it CONNECT, CREATE and USAGE on schema "${target.schema}", or use another user): ` +
        raw;
      break;
    default: {
      const detail = typeof e.detail === "string" && e.detail ? ` (${e.detail})` : "";
      const hint = typeof e.hint === "string" && e.hint ? ` Hint: ${e.hint}` : "";
      text = `Cannot ${action} ${where}: ${raw}${detail}${hint}`;
    }
  }
  // The one redaction (every written form of the password), as everywhere else.
  return new Secrets([target.password]).redact(text);
}
