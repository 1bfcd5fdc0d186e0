/**
 * The configuration schema (valibot): every key with its conversion and default, the single
 * source of the {@linkcode Config} type. Every value may be written as a string (as in the file of
 * the Python connector act-sync replaces) or as a JSON number/boolean; each problem names the key
 * and the bad value, never the password or token.
 *
 * @module
 */
import * as v from "valibot";
import { Cron } from "croner";
import { errorMessage } from "../core/errors.ts";
import { LOG_LEVELS, type LogLevel } from "../core/log.ts";
import { formatUtc, parseUtc } from "../core/time.ts";
import { redactUrlCredentials } from "../core/secrets.ts";
import { parseDecimal } from "./_decimal.ts";
import { historyTables } from "./_history_mode.ts";
import {
  ALL_CUSTOM,
  isBuiltinTableName,
  isCustomTableName,
  TABLE_NAMES,
  type TableName,
} from "../act/tables.ts";
import { closest } from "../core/closest.ts";
import { notifyKey, notifyOnKey } from "./_notify.ts";
import { maxStalenessKey } from "./_freshness.ts";
import { excludeFieldsKey, hashFieldsKey } from "./_fields.ts";

// ---------------------------------------------------------------------------------------------
// The rules, as valibot actions. Each key's pipe reads as its specification: `v.unknown()` (a value
// may be a string, as in the Python connector's file, or a JSON number or boolean), then one
// `v.check` per rule on the value as written, each with a message that names the key and the bad
// value, then one `v.transform` to the normalised value. Parsing runs with `abortPipeEarly`, so a
// key reports only its first broken rule.

type Check = v.CheckAction<unknown, v.ErrorMessage<v.CheckIssue<unknown>>>;

/** A rule: `problem` returns the message for a bad value, or undefined when the value is fine. */
function rule(problem: (input: unknown) => string | undefined): Check {
  return v.check((input) => problem(input) === undefined, (issue) => problem(issue.input) ?? "");
}

/**
 * `"value"` for a message, shortened; never used for secrets. The credentials of any URL in it
 * (`scheme://user:password@`, `?password=`) are replaced by `***` first.
 */
export function show(value: unknown): string {
  let text: string;
  if (typeof value === "string") text = value;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  text = redactUrlCredentials(text);
  if (text.length > 120) text = `${text.slice(0, 117)}...`;
  return JSON.stringify(text);
}

function asText(input: unknown): string | undefined {
  if (typeof input === "string") return input.trim();
  if (typeof input === "number" && Number.isFinite(input)) return String(input);
  return undefined;
}

/** The value as a number: a JSON number, or text in decimal notation (`integer`: digits only). */
function asNumber(input: unknown, integer = false): number | undefined {
  if (typeof input === "number") return Number.isFinite(input) ? input : undefined;
  return typeof input === "string" ? parseDecimal(input, integer) : undefined;
}

function isBlank(input: unknown): boolean {
  return input === undefined || input === null || input === "";
}

/** The value as trimmed text. */
const toText = v.transform((input: unknown) => asText(input) ?? "");
/** The value as trimmed text, or undefined when blank. */
const toOptionalText = v.transform((input: unknown) => asText(input) || undefined);
/** The value as a number. */
const toNumber = v.transform((input: unknown) => asNumber(input) ?? NaN);

/** The key is set (blank text counts as missing); says where to set it. */
function required(key: string, what: string): Check {
  return rule((input) =>
    isBlank(input) || asText(input) === ""
      ? `'${key}' is missing: set ${what} in the config file or with ${envName(key)}`
      : undefined
  );
}

/** The value is text (or a number written without quotes). */
function text(key: string): Check {
  return rule((input) =>
    asText(input) === undefined
      ? `'${key}' must be a string: current value is ${show(input)}`
      : undefined
  );
}

/** Optional text: blank, or text. */
function optionalText(key: string): Check {
  return rule((input) =>
    !isBlank(input) && asText(input) === undefined
      ? `'${key}' must be a string: current value is ${show(input)}`
      : undefined
  );
}

/** Non-empty text. */
function nonEmpty(key: string): Check {
  return rule((input) =>
    asText(input)
      ? undefined
      : `'${key}' must be a non-empty string: current value is ${show(input)}`
  );
}

/** A secret is set: never echoed, not even when malformed, and never trimmed. */
function secret(key: string, what: string, isRequired: boolean): Check {
  return rule((input) => {
    if (isBlank(input)) {
      return isRequired
        ? `'${key}' is missing: set ${what} in the config file or with ${envName(key)}`
        : undefined;
    }
    return typeof input === "string" || (typeof input === "number" && Number.isFinite(input))
      ? undefined
      : `'${key}' must be a string`;
  });
}

/**
 * A token sent as `Authorization: Bearer <token>`: printable ASCII without whitespace (around it is
 * trimmed), since a header cannot carry anything else intact. Never echoed.
 */
function bearerToken(key: string): Check {
  return rule((input) =>
    isBlank(input) || /^[\x21-\x7e]*$/.test(String(input).trim())
      ? undefined
      : `'${key}' must be printable ASCII without spaces: it is sent in the header ` +
        `'Authorization: Bearer <${key}>'`
  );
}

/** A secret as written (numbers as their digits; blank as ""). */
const toSecret = v.transform((input: unknown) => isBlank(input) ? "" : String(input));

/** An integer from `min` to `max` (both inclusive). */
function integerIn(key: string, min: number, max: number, unit = ""): Check {
  return rule((input) => {
    const n = asNumber(input, true);
    return n === undefined || !Number.isSafeInteger(n) || n < min || n > max
      ? `'${key}' must be an integer${unit} from ${min} to ${max}: current value is ${show(input)}`
      : undefined;
  });
}

/** A number from `min` to `max` (both inclusive), described as `what`. */
function numberIn(key: string, min: number, max: number, what: string): Check {
  return rule((input) => {
    const n = asNumber(input);
    return n === undefined || n < min || n > max
      ? `'${key}' must be ${what}: current value is ${show(input)}`
      : undefined;
  });
}

/** A TCP port; with `blankAllowed`, "" (or no value) means the protocol's default. */
function port(key: string, blankAllowed = false): Check {
  const hint = blankAllowed ? `, or "" for the protocol's default port` : "";
  return rule((input) => {
    if (blankAllowed && isBlank(input)) return undefined;
    const n = asNumber(input, true);
    return n === undefined || !Number.isInteger(n) || n < 1 || n > 65535
      ? `'${key}' must be between 1 and 65535: current value is ${show(input)} ` +
        `(Port must be between 1 and 65535${hint})`
      : undefined;
  });
}

/** The port as a number, or null for the protocol's default. */
const toPortOrDefault = v.transform((input: unknown) => isBlank(input) ? null : asNumber(input)!);

/** One of `values` (any case), or one of `aliases`. */
function oneOf<T extends string>(
  key: string,
  values: readonly T[],
  aliases: Record<string, T> = {},
): [Check, v.TransformAction<unknown, T>] {
  const find = (input: unknown) => {
    const text = asText(input)?.toLowerCase() ?? "";
    return values.find((value) => value.toLowerCase() === text) ?? aliases[text];
  };
  const list = values.map((value) => `"${value}"`).join(", ");
  return [
    rule((input) =>
      find(input) === undefined
        ? `'${key}' must be one of ${list}: current value is ${show(input)}`
        : undefined
    ),
    v.transform((input) => find(input)!),
  ];
}

const TRUE = ["true", "1", "yes"];
const FALSE = ["false", "0", "no"];

/** true/false, also as "yes"/"no" or 1/0. */
function boolean(key: string): Check {
  return rule((input) =>
    typeof input === "boolean" || [...TRUE, ...FALSE].includes(asText(input)?.toLowerCase() ?? "")
      ? undefined
      : `'${key}' must be true or false: current value is ${show(input)}`
  );
}

const toBoolean = v.transform((input: unknown) =>
  typeof input === "boolean" ? input : TRUE.includes(asText(input)!.toLowerCase())
);

/** A URL path like `/act.web.api` (no query, fragment, space or scheme). */
function urlPath(key: string): Check {
  return rule((input) => {
    const text = asText(input)!;
    return /[?#\s]/.test(text) || text.includes("://")
      ? `'${key}' must be a URL path like "/act.web.api": current value is ${show(input)}`
      : undefined;
  });
}

const toPath = v.transform((input: unknown) => normalisePath(asText(input)!));

export function normalisePath(text: string): string {
  const trimmed = text.replace(/\/+$/, "");
  return trimmed === "" ? "" : trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
}

function bareHost(input: unknown): { host: string; ipv6: boolean } {
  const host = asText(input)!.replace(/^\[(.*)\]$/, "$1");
  return { host, ipv6: (host.match(/:/g)?.length ?? 0) >= 2 && !host.includes("/") };
}

/** A bare host name or address: no scheme, port or path, and one a URL can hold. */
const hostName: Check = rule((input) => {
  const { host, ipv6 } = bareHost(input);
  if (!ipv6 && (/[/:@?#]/.test(host))) {
    return `'hostname' must be a bare host name without scheme, port or path: current value is ` +
      `${show(input)}; write the parts to their own keys, e.g. "protocol": "https", ` +
      `"hostname": "act.example.com", "port": "8443", "api_path": "/act.web.api"`;
  }
  try {
    new URL(`http://${ipv6 ? `[${host}]` : host}`);
  } catch {
    return `'hostname' is not a valid host name: current value is ${show(input)}`;
  }
  return undefined;
});

const toHost = v.transform((input: unknown) => bareHost(input).host);

/** An ISO-8601 date or date-time (no offset = UTC) as UTC, or undefined when invalid. */
export function isoDate(input: unknown): string | undefined {
  const text = asText(input) ?? "";
  const ms = parseUtc(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  return ms === null ? undefined : formatUtc(ms);
}

const dateTime: Check = rule((input) =>
  isoDate(input) === undefined
    ? `'default_start_date' must be an ISO-8601 date or date-time like "1900-01-01T00:00:00Z": ` +
      `current value is ${show(input)}`
    : undefined
);

const toUtc = v.transform((input: unknown) => isoDate(input)!);

/** `sqlite:FILE` for a SQLite destination, the text itself for PostgreSQL, or an error message. */
function parseDestination(input: unknown): { value: string } | { error: string } {
  const text = asText(input);
  const expected = `'destination' must be "sqlite:FILE" or "postgres://...": current value is `;
  // A value that is not text (an array or object may hold a URL with its password) is never
  // shown, only its JSON type.
  if (input !== undefined && input !== null && typeof input !== "string" && text === undefined) {
    const type = Array.isArray(input) ? "an array" : `a JSON ${typeof input}`;
    return {
      error: `'destination' must be a string like "sqlite:FILE" or "postgres://...": found ${type}`,
    };
  }
  if (!text) return { error: expected + show(input) };
  if (/^postgres(ql)?:\/\//i.test(text)) {
    try {
      new URL(text);
    } catch {
      return {
        error: `'destination' is not a valid PostgreSQL URL: current value is ${
          show(redactUrlCredentials(text))
        }`,
      };
    }
    return { value: text };
  }
  let file: string;
  if (/^sqlite:/i.test(text)) {
    file = text.slice("sqlite:".length);
    if (/^\/\/(\/|[a-z]:)/i.test(file)) file = file.slice(2); // sqlite:///abs, sqlite://C:/x
  } else if (/^[a-z]:[\\/]/i.test(text) || !/^[a-z][a-z0-9+.-]*:/i.test(text)) {
    file = text; // a bare path, Windows drive paths included
  } else {
    return { error: expected + show(redactUrlCredentials(text)) };
  }
  if (!file) {
    return { error: `'destination' names no SQLite file: current value is ${show(input)}` };
  }
  return { value: `sqlite:${file}` };
}

const destination: Check = rule((input) => {
  const parsed = parseDestination(input);
  return "error" in parsed ? parsed.error : undefined;
});

const toDestination = v.transform((input: unknown) =>
  (parseDestination(input) as { value: string }).value
);

/** A list written as a JSON array or as text separated by commas, semicolons or spaces. */
function listItems(input: unknown): unknown[] | undefined {
  if (Array.isArray(input)) return input;
  if (typeof input === "string") return input.split(/[\s,;]+/).filter(Boolean);
  return undefined;
}

/**
 * The chosen tables, or the problems (one per bad name): built-in names in their canonical order,
 * then `custom_*` (every custom table Act! lists) and custom tables named one by one, then
 * `-NAME` entries that leave a custom table out. `all` (or `*`) is every built-in table and
 * `custom_*`; a list of `-NAME` entries alone starts from `all`.
 */
function parseTables(input: unknown): { value: string[] } | { error: string } {
  const names = listItems(input);
  if (!names) {
    return { error: `'tables' must be a list of table names: current value is ${show(input)}` };
  }
  const valid = `${TABLE_NAMES.join(", ")}, ${ALL_CUSTOM} or a custom table's name`;
  const chosen = new Set<string>();
  const left = new Set<string>();
  const errors: string[] = [];
  for (const name of names) {
    const text = typeof name === "string" ? name.trim().toLowerCase() : "";
    const bare = text.startsWith("-") ? text.slice(1) : text;
    const into = text.startsWith("-") ? left : chosen;
    if (bare === "*" || bare === "all") {
      for (const table of [...TABLE_NAMES, ALL_CUSTOM]) into.add(table);
    } else if (isBuiltinTableName(bare) || isCustomTableName(bare) || bare === ALL_CUSTOM) {
      into.add(bare);
    } else {
      const guess = closest(String(name), [...TABLE_NAMES, ALL_CUSTOM]);
      errors.push(
        `'tables' contains an unknown table ${show(name)}: valid tables are ${valid}` +
          (guess ? `; did you mean "${guess}"?` : ""),
      );
    }
  }
  if (errors.length) return { error: errors.join("\n  - ") };
  if (chosen.size === 0 && left.size > 0) {
    for (const t of [...TABLE_NAMES, ALL_CUSTOM]) chosen.add(t);
  }
  for (const table of left) if (!isCustomTableName(table)) chosen.delete(table);
  if (chosen.size === 0) {
    return {
      error: `'tables' is empty: current value is ${show(input)}; valid tables are ${valid}`,
    };
  }
  const builtin = TABLE_NAMES.filter((table) => chosen.has(table));
  const custom = [...chosen].filter((table) => !isBuiltinTableName(table));
  const except = [...left].filter((table) => isCustomTableName(table)).map((t) => `-${t}`);
  return { value: [...builtin, ...custom, ...except] };
}

const tableList: Check = rule((input) => {
  const parsed = parseTables(input);
  return "error" in parsed ? parsed.error : undefined;
});

const toTables = v.transform((input: unknown) => (parseTables(input) as { value: string[] }).value);

const parseHistoryTables = (input: unknown) => historyTables(input, listItems(input), show);

const historyList: Check = rule((input) => {
  const parsed = parseHistoryTables(input);
  return "error" in parsed ? parsed.error : undefined;
});

const toHistoryTables = v.transform((input: unknown) =>
  (parseHistoryTables(input) as { value: TableName[] }).value
);

/** `http_allowed_hosts`: host names (no port), lower-cased; IPv6 without brackets. */
function allowedHost(name: unknown): string | undefined {
  const text = typeof name === "string"
    ? name.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1")
    : "";
  return !/^[a-z0-9._:-]+$/.test(text) || text.split(":").length === 2 ? undefined : text;
}

const hostList: Check = rule((input) => {
  const names = listItems(input);
  if (!names) {
    return `'http_allowed_hosts' must be a list of host names: current value is ${show(input)}`;
  }
  const bad = names.find((name) => allowedHost(name) === undefined);
  return bad === undefined ? undefined : `'http_allowed_hosts' must hold host names like ` +
    `"sync.example.lan", without scheme or port: current value is ${show(bad)}`;
});

const toHosts = v.transform((input: unknown) => listItems(input)!.map((n) => allowedHost(n)!));

/** A cron expression croner accepts: 5 fields (or 6 with seconds first), or a `@` nickname. */
function cron(key: string): Check {
  return rule((input) => {
    const text = asText(input)?.replace(/\s+/g, " ") ?? "";
    const fields = text.split(" ").length;
    if (!text || (!text.startsWith("@") && fields !== 5 && fields !== 6)) {
      return `'${key}' is not a valid cron expression: current value is ${show(input)}: use 5 ` +
        `fields "minute hour day month weekday" (or 6 with seconds first), e.g. "*/15 * * * *"`;
    }
    try {
      new Cron(text, { paused: true }).stop();
    } catch (error) {
      const reason = errorMessage(error).replace(/^CronPattern: /, "");
      return `'${key}' is not a valid cron expression: current value is ${show(input)}: ${reason}`;
    }
    return undefined;
  });
}

const toCron = v.transform((input: unknown) => asText(input)!.replace(/\s+/g, " "));

/** Per-table path overrides (an object, or its JSON text), or the problems. */
function parseEndpoints(
  input: unknown,
): { value: Partial<Record<TableName, string>> } | { error: string } {
  const example = `{"activity_types": "/api/task-types"}`;
  let value = input;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return {
        error: `'endpoints' must be a JSON object like ${example}: current value is ${show(input)}`,
      };
    }
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    return {
      error: `'endpoints' must be an object like ${example}: current value is ${show(input)}`,
    };
  }
  const out: Partial<Record<TableName, string>> = {};
  const errors: string[] = [];
  for (const [name, target] of Object.entries(value)) {
    if (!(TABLE_NAMES as readonly string[]).includes(name)) {
      const guess = closest(name, TABLE_NAMES);
      errors.push(
        `'endpoints' has an unknown table ${show(name)}: valid tables are ${
          TABLE_NAMES.join(", ")
        }` +
          (guess ? `; did you mean "${guess}"?` : ""),
      );
    } else if (typeof target !== "string" || target.trim() === "" || /[?#\s]/.test(target.trim())) {
      errors.push(
        `'endpoints.${name}' must be a path like "/api/contacts": current value is ${show(target)}`,
      );
    } else {
      out[name as TableName] = normalisePath(target.trim());
    }
  }
  if (errors.length) return { error: errors.join("\n  - ") };
  return { value: out };
}

const endpointMap: Check = rule((input) => {
  const parsed = parseEndpoints(input);
  return "error" in parsed ? parsed.error : undefined;
});

const toEndpoints = v.transform((input: unknown) =>
  (parseEndpoints(input) as { value: Partial<Record<TableName, string>> }).value
);

/** A PostgreSQL role name: blank, or 1 to 63 bytes without NUL. */
const roleName: Check = rule((input) => {
  const text = asText(input);
  if (!text) return undefined;
  return new TextEncoder().encode(text).length > 63 || text.includes("\0")
    ? `'report_role' must be a PostgreSQL role name of at most 63 bytes: current value is ${
      show(input)
    }`
    : undefined;
});

// ---------------------------------------------------------------------------------------------
// The schema.

// Upper bounds of the numeric keys (README, configuration table). Timers top out at 2^31-1 ms
// (about 24.8 days): a longer delay fires at once, so every duration stays well below that.
/** Rows per page: a page is held in memory while it is written. */
const MAX_BATCH_SIZE = 100_000;
/** Pause between requests: one hour. */
const MAX_PAUSE_SECONDS = 3600;
/** Timeout per request: one day. */
const MAX_TIMEOUT_SECONDS = 86_400;
/** Longest `connect_timeout_seconds`. */
const MAX_CONNECT_SECONDS = 300;
/** Re-read before the cursor: 366 days. */
const MAX_LOOKBACK_SECONDS = 366 * 86_400;
/** Retries for a transient error. */
const MAX_RETRIES = 100;
const MAX_PARALLEL_REQUESTS = 16;
/** Log file size before rotation: 1 GiB. */
const MAX_LOG_BYTES = 1024 * 1024 * 1024;

/** Every config key, with its rules and default. `Config` is inferred from it. */
export const ConfigSchema = v.object(
  {
    protocol: v.optional(
      v.pipe(v.unknown(), ...oneOf("protocol", ["https", "http"] as const)),
      "https",
    ),
    hostname: v.pipe(
      v.unknown(),
      required("hostname", "the Act! server's host name"),
      text("hostname"),
      hostName,
      toHost,
    ),
    port: v.optional(v.pipe(v.unknown(), port("port", true), toPortOrDefault), null),
    api_path: v.optional(
      v.pipe(v.unknown(), text("api_path"), urlPath("api_path"), toPath),
      "/act.web.api",
    ),
    username: v.pipe(
      v.unknown(),
      required("username", "the Act! user's display name"),
      text("username"),
      toText,
    ),
    password: v.pipe(v.unknown(), secret("password", "the Act! user's password", true), toSecret),
    database_name: v.pipe(
      v.unknown(),
      required("database_name", "the Act! database name"),
      text("database_name"),
      toText,
    ),
    batch_size: v.optional(
      v.pipe(v.unknown(), integerIn("batch_size", 1, MAX_BATCH_SIZE), toNumber),
      10000,
    ),
    rate_limit_pause: v.optional(
      v.pipe(
        v.unknown(),
        numberIn(
          "rate_limit_pause",
          0,
          MAX_PAUSE_SECONDS,
          `a number of seconds from 0 to ${MAX_PAUSE_SECONDS}`,
        ),
        toNumber,
      ),
      0.25,
    ),
    /**
     * Requests in flight at most, across the run (1–16); `rate_limit_pause` spaces the starts
     * on each of these connections. 1: one request at a time.
     */
    max_parallel_requests: v.optional(
      v.pipe(v.unknown(), integerIn("max_parallel_requests", 1, MAX_PARALLEL_REQUESTS), toNumber),
      4,
    ),
    default_start_date: v.optional(v.pipe(v.unknown(), dateTime, toUtc), "1900-01-01T00:00:00Z"),
    destination: v.optional(v.pipe(v.unknown(), destination, toDestination), "sqlite:act.db"),
    state_file: v.optional(v.pipe(v.unknown(), nonEmpty("state_file"), toText), "state.json"),
    tables: v.optional(
      v.pipe(v.unknown(), tableList, toTables),
      () => [...TABLE_NAMES, ALL_CUSTOM] as string[],
    ),
    history_mode: v.optional(
      v.pipe(v.unknown(), historyList, toHistoryTables),
      (): TableName[] => ["opportunities"],
    ),
    schedule: v.optional(v.pipe(v.unknown(), cron("schedule"), toCron), "*/15 * * * *"),
    reconcile_schedule: v.optional(
      v.pipe(v.unknown(), cron("reconcile_schedule"), toCron),
      "0 3 * * *",
    ),
    http_host: v.optional(v.pipe(v.unknown(), nonEmpty("http_host"), toText), "127.0.0.1"),
    http_port: v.optional(v.pipe(v.unknown(), port("http_port"), toNumber), 8787),
    http_token: v.pipe(
      v.unknown(),
      secret("http_token", "the service's bearer token", false),
      bearerToken("http_token"),
      toOptionalText,
    ),
    http_allowed_hosts: v.optional(v.pipe(v.unknown(), hostList, toHosts), () => []),
    lookback_seconds: v.optional(
      v.pipe(
        v.unknown(),
        integerIn("lookback_seconds", 0, MAX_LOOKBACK_SECONDS, " number of seconds"),
        toNumber,
      ),
      60,
    ),
    request_timeout_seconds: v.optional(
      v.pipe(
        v.unknown(),
        numberIn(
          "request_timeout_seconds",
          1,
          MAX_TIMEOUT_SECONDS,
          `a number of seconds from 1 to ${MAX_TIMEOUT_SECONDS}`,
        ),
        toNumber,
      ),
      120,
    ),
    connect_timeout_seconds: v.optional(
      v.pipe(
        v.unknown(),
        numberIn(
          "connect_timeout_seconds",
          0,
          MAX_CONNECT_SECONDS,
          `a number of seconds from 0 to ${MAX_CONNECT_SECONDS} (0 turns the check off)`,
        ),
        toNumber,
      ),
      5,
    ),
    max_retries: v.optional(
      v.pipe(v.unknown(), integerIn("max_retries", 0, MAX_RETRIES), toNumber),
      3,
    ),
    /** Consecutive failed runs before `/health` answers 503 "failing" (1–100). */
    unhealthy_after_failures: v.optional(
      v.pipe(v.unknown(), integerIn("unhealthy_after_failures", 1, 100), toNumber),
      1,
    ),
    endpoints: v.optional(v.pipe(v.unknown(), endpointMap, toEndpoints), () => ({})),
    log_level: v.optional(
      v.pipe(
        v.unknown(),
        ...oneOf<LogLevel>("log_level", LOG_LEVELS, {
          debug: "FINE",
          warn: "WARNING",
          error: "SEVERE",
        }),
      ),
      "INFO",
    ),
    log_format: v.optional(
      v.pipe(v.unknown(), ...oneOf("log_format", ["text", "json"] as const)),
      "text",
    ),
    log_file: v.pipe(v.unknown(), optionalText("log_file"), toOptionalText),
    log_max_bytes: v.optional(
      v.pipe(
        v.unknown(),
        integerIn("log_max_bytes", 1024, MAX_LOG_BYTES, " number of bytes"),
        toNumber,
      ),
      10 * 1024 * 1024,
    ),
    ca_file: v.pipe(v.unknown(), optionalText("ca_file"), toOptionalText),
    tls_verify: v.optional(v.pipe(v.unknown(), boolean("tls_verify"), toBoolean), true),
    max_delete_fraction: v.optional(
      v.pipe(v.unknown(), numberIn("max_delete_fraction", 0, 1, "a number from 0 to 1"), toNumber),
      0.5,
    ),
    notify: notifyKey,
    notify_on: notifyOnKey,
    max_staleness: maxStalenessKey,
    exclude_fields: excludeFieldsKey,
    hash_fields: hashFieldsKey,
    hash_key: v.pipe(
      v.unknown(),
      secret("hash_key", "the key of 'hash_fields'", false),
      toOptionalText,
    ),
    /**
     * A file (e.g. on a share) that gets a read-only snapshot of the SQLite destination after
     * each successful run; unset: none.
     */
    publish_to: v.pipe(v.unknown(), optionalText("publish_to"), toOptionalText),
    /** A PostgreSQL role granted SELECT on everything act-sync creates; unset: none. */
    report_role: v.pipe(v.unknown(), optionalText("report_role"), roleName, toOptionalText),
  },
  (issue) => {
    const key = issue.expected?.replace(/^"|"$/g, "");
    return issue.input === undefined && key
      ? `'${key}' is missing`
      : `The configuration must be a JSON object: current value is ${show(issue.input)}`;
  },
);

/** The validated, normalised configuration (paths absolute, defaults filled in). */
export type Config = v.InferOutput<typeof ConfigSchema>;

/** Every config key, in schema order. */
export const CONFIG_KEYS: readonly (keyof Config)[] = Object.keys(
  ConfigSchema.entries,
) as (keyof Config)[];

/** The environment variable for a config key: `batch_size` → `ACT_BATCH_SIZE`. */
export function envName(key: string): string {
  return `ACT_${key.toUpperCase()}`;
}
