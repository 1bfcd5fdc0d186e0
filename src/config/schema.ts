/**
 * The configuration schema (valibot): every key with its conversion and default, the single
 * source of the {@linkcode Config} type. Every value may be written as a string (as in the seed's
 * file) or as a JSON number/boolean; each problem names the key and the bad value, never the
 * password or token.
 *
 * @module
 */
import * as v from "valibot";
import { Cron } from "croner";
import { LOG_LEVELS, type LogLevel } from "../core/log.ts";
import { formatUtc } from "../core/time.ts";
import { TABLE_NAMES, type TableName } from "../sync/tables.ts";

// ---------------------------------------------------------------------------------------------
// Field converters: each turns a raw value (string, number, boolean, …) into the normalised value,
// or returns an error message that names the key and the bad value.

type Converted<T> = { value: T } | { error: string };

/** A schema for one key: accepts anything, converts it or reports one issue. */
function field<T>(convert: (input: unknown) => Converted<T>): v.GenericSchema<unknown, T> {
  return v.pipe(
    v.unknown(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const result = convert(dataset.value);
      if ("error" in result) {
        addIssue({ message: result.error });
        return NEVER;
      }
      return result.value;
    }),
  );
}

/** `"value"` for a message, shortened; never used for secrets. */
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
  if (text.length > 120) text = `${text.slice(0, 117)}...`;
  return JSON.stringify(text);
}

function asText(input: unknown): string | undefined {
  if (typeof input === "string") return input.trim();
  if (typeof input === "number" && Number.isFinite(input)) return String(input);
  return undefined;
}

function asNumber(input: unknown): number | undefined {
  if (typeof input === "number") return Number.isFinite(input) ? input : undefined;
  if (typeof input === "string" && input.trim() !== "") {
    const n = Number(input.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function requiredText(key: string, what: string): (input: unknown) => Converted<string> {
  return (input) => {
    const text = asText(input);
    if (input === undefined || input === null || text === "") {
      return {
        error: `'${key}' is missing: set ${what} in the config file or with ${envName(key)}`,
      };
    }
    if (text === undefined) {
      return { error: `'${key}' must be a string: current value is ${show(input)}` };
    }
    return { value: text };
  };
}

function secretText(key: string, what: string, required: boolean) {
  return (input: unknown): Converted<string> => {
    if (input === undefined || input === null || input === "") {
      return required
        ? { error: `'${key}' is missing: set ${what} in the config file or with ${envName(key)}` }
        : { value: "" };
    }
    // Never echo a secret, not even a malformed one. Secrets are not trimmed.
    if (typeof input === "number" && Number.isFinite(input)) return { value: String(input) };
    if (typeof input !== "string") return { error: `'${key}' must be a string` };
    return { value: input };
  };
}

function optionalText(key: string): (input: unknown) => Converted<string | undefined> {
  return (input) => {
    if (input === undefined || input === null || input === "") return { value: undefined };
    const text = asText(input);
    if (text === undefined) {
      return { error: `'${key}' must be a string: current value is ${show(input)}` };
    }
    return { value: text === "" ? undefined : text };
  };
}

function nonEmptyText(key: string): (input: unknown) => Converted<string> {
  return (input) => {
    const text = asText(input);
    if (!text) {
      return { error: `'${key}' must be a non-empty string: current value is ${show(input)}` };
    }
    return { value: text };
  };
}

/** An integer from `min` to `max` (both inclusive). */
function integer(
  key: string,
  min: number,
  max: number,
  unit = "",
): (input: unknown) => Converted<number> {
  return (input) => {
    const n = asNumber(input);
    if (n === undefined || !Number.isSafeInteger(n) || n < min || n > max) {
      return {
        error: `'${key}' must be an integer${unit} from ${min} to ${max}: current value is ${
          show(input)
        }`,
      };
    }
    return { value: n };
  };
}

function portNumber(key: string, hint = ""): (input: unknown) => Converted<number> {
  return (input) => {
    const n = asNumber(input);
    if (n === undefined || !Number.isInteger(n) || n < 1 || n > 65535) {
      return {
        error: `'${key}' must be between 1 and 65535: current value is ${show(input)} ` +
          `(Port must be between 1 and 65535${hint})`,
      };
    }
    return { value: n };
  };
}

function serverPort(input: unknown): Converted<number | null> {
  if (input === null || input === undefined || input === "") return { value: null };
  return portNumber("port", `, or "" for the protocol's default port`)(input);
}

function numberIn(
  key: string,
  check: (n: number) => boolean,
  what: string,
): (input: unknown) => Converted<number> {
  return (input) => {
    const n = asNumber(input);
    if (n === undefined || !check(n)) {
      return { error: `'${key}' must be ${what}: current value is ${show(input)}` };
    }
    return { value: n };
  };
}

function oneOf<T extends string>(
  key: string,
  values: readonly T[],
  aliases: Record<string, T> = {},
): (input: unknown) => Converted<T> {
  return (input) => {
    const text = asText(input)?.toLowerCase() ?? "";
    const found = values.find((value) => value.toLowerCase() === text) ?? aliases[text];
    if (found === undefined) {
      const list = values.map((value) => `"${value}"`).join(", ");
      return { error: `'${key}' must be one of ${list}: current value is ${show(input)}` };
    }
    return { value: found };
  };
}

function bool(key: string): (input: unknown) => Converted<boolean> {
  return (input) => {
    if (typeof input === "boolean") return { value: input };
    const text = asText(input)?.toLowerCase();
    if (text === "true" || text === "1" || text === "yes") return { value: true };
    if (text === "false" || text === "0" || text === "no") return { value: false };
    return { error: `'${key}' must be true or false: current value is ${show(input)}` };
  };
}

function apiPath(input: unknown): Converted<string> {
  const text = asText(input);
  if (text === undefined) {
    return { error: `'api_path' must be a string: current value is ${show(input)}` };
  }
  if (/[?#\s]/.test(text) || text.includes("://")) {
    return {
      error: `'api_path' must be a URL path like "/act.web.api": current value is ${show(input)}`,
    };
  }
  return { value: normalisePath(text) };
}

export function normalisePath(text: string): string {
  const trimmed = text.replace(/\/+$/, "");
  return trimmed === "" ? "" : trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
}

function hostname(input: unknown): Converted<string> {
  const missing = requiredText("hostname", "the Act! server's host name")(input);
  if ("error" in missing) return missing;
  const host = missing.value.replace(/^\[(.*)\]$/, "$1");
  const ipv6 = (host.match(/:/g)?.length ?? 0) >= 2 && !host.includes("/");
  if (!ipv6 && (/[/:@?#]/.test(host))) {
    return {
      error: `'hostname' must be a bare host name without scheme, port or path: current value is ` +
        `${show(input)}; write the parts to their own keys, e.g. "protocol": "https", ` +
        `"hostname": "act.example.com", "port": "8443", "api_path": "/act.web.api"`,
    };
  }
  try {
    new URL(`http://${ipv6 ? `[${host}]` : host}`);
  } catch {
    return { error: `'hostname' is not a valid host name: current value is ${show(input)}` };
  }
  return { value: host };
}

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

export function isoDate(input: unknown): Converted<string> {
  const text = asText(input) ?? "";
  const error = {
    error:
      `'default_start_date' must be an ISO-8601 date or date-time like "1900-01-01T00:00:00Z": ` +
      `current value is ${show(input)}`,
  };
  const m = ISO_DATE.exec(text);
  if (!m) return error;
  const [, y, mo, d, h = "00", mi = "00", s = "00", frac = "", zone] = m;
  let offset = "Z";
  if (zone && zone.toUpperCase() !== "Z") {
    offset = zone.includes(":") ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  }
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac.slice(0, 4)}${offset}`);
  // Date.parse rolls 2023-02-30 over to March: check the fields against a UTC round trip.
  const check = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s));
  if (
    Number.isNaN(ms) || check.getUTCMonth() !== +mo - 1 || check.getUTCDate() !== +d ||
    check.getUTCHours() !== +h || check.getUTCMinutes() !== +mi || check.getUTCSeconds() !== +s
  ) {
    return error;
  }
  return { value: formatUtc(ms) };
}

function destination(input: unknown): Converted<string> {
  const text = asText(input);
  if (!text) {
    return {
      error: `'destination' must be "sqlite:FILE" or "postgres://...": current value is ${
        show(input)
      }`,
    };
  }
  if (/^postgres(ql)?:\/\//i.test(text)) {
    try {
      new URL(text);
    } catch {
      return {
        error: `'destination' is not a valid PostgreSQL URL: current value is ${
          show(redactDestination(text))
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
    return {
      error: `'destination' must be "sqlite:FILE" or "postgres://...": current value is ` +
        show(redactDestination(text)),
    };
  }
  if (!file) {
    return { error: `'destination' names no SQLite file: current value is ${show(input)}` };
  }
  return { value: `sqlite:${file}` };
}

function tables(input: unknown): Converted<TableName[]> {
  let names: unknown[];
  if (Array.isArray(input)) names = input;
  else if (typeof input === "string") names = input.split(/[\s,;]+/).filter(Boolean);
  else return { error: `'tables' must be a list of table names: current value is ${show(input)}` };
  const chosen = new Set<TableName>();
  const errors: string[] = [];
  for (const name of names) {
    const text = typeof name === "string" ? name.trim().toLowerCase() : "";
    if (text === "*" || text === "all") {
      for (const table of TABLE_NAMES) chosen.add(table);
    } else if ((TABLE_NAMES as readonly string[]).includes(text)) {
      chosen.add(text as TableName);
    } else {
      const guess = closest(String(name), TABLE_NAMES);
      errors.push(
        `'tables' contains an unknown table ${show(name)}: valid tables are ${
          TABLE_NAMES.join(", ")
        }` +
          (guess ? `; did you mean "${guess}"?` : ""),
      );
    }
  }
  if (errors.length) return { error: errors.join("\n  - ") };
  if (chosen.size === 0) {
    return {
      error: `'tables' is empty: current value is ${show(input)}; valid tables are ${
        TABLE_NAMES.join(", ")
      }`,
    };
  }
  return { value: TABLE_NAMES.filter((table) => chosen.has(table)) };
}

/** `http_allowed_hosts`: host names (no port), lower-cased; IPv6 without brackets. */
function hostNames(input: unknown): Converted<string[]> {
  let names: unknown[];
  if (Array.isArray(input)) names = input;
  else if (typeof input === "string") names = input.split(/[\s,;]+/).filter(Boolean);
  else {
    return {
      error: `'http_allowed_hosts' must be a list of host names: current value is ${show(input)}`,
    };
  }
  const out: string[] = [];
  for (const name of names) {
    const text = typeof name === "string"
      ? name.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1")
      : "";
    if (!/^[a-z0-9._:-]+$/.test(text) || text.split(":").length === 2) {
      return {
        error:
          `'http_allowed_hosts' must hold host names like "sync.example.lan", without scheme or port: current value is ${
            show(name)
          }`,
      };
    }
    out.push(text);
  }
  return { value: out };
}

function cron(key: string): (input: unknown) => Converted<string> {
  return (input) => {
    const text = asText(input)?.replace(/\s+/g, " ") ?? "";
    const fields = text.split(" ").length;
    const example =
      `use 5 fields "minute hour day month weekday" (or 6 with seconds first), e.g. "*/15 * * * *"`;
    if (!text || (!text.startsWith("@") && fields !== 5 && fields !== 6)) {
      return {
        error: `'${key}' is not a valid cron expression: current value is ${
          show(input)
        }: ${example}`,
      };
    }
    try {
      new Cron(text, { paused: true }).stop();
    } catch (error) {
      const reason = error instanceof Error
        ? error.message.replace(/^CronPattern: /, "")
        : String(error);
      return {
        error: `'${key}' is not a valid cron expression: current value is ${
          show(input)
        }: ${reason}`,
      };
    }
    return { value: text };
  };
}

function endpoints(input: unknown): Converted<Partial<Record<TableName, string>>> {
  let value = input;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return {
        error: `'endpoints' must be a JSON object like {"activity_types": "/api/task-types"}: ` +
          `current value is ${show(input)}`,
      };
    }
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    return {
      error:
        `'endpoints' must be an object like {"activity_types": "/api/task-types"}: current value is ${
          show(input)
        }`,
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
/** Re-read before the cursor: 366 days. */
const MAX_LOOKBACK_SECONDS = 366 * 86_400;
/** Retries for a transient error. */
const MAX_RETRIES = 100;
/** Log file size before rotation: 1 GiB. */
const MAX_LOG_BYTES = 1024 * 1024 * 1024;

/** Every config key, with its conversion and default. `Config` is inferred from it. */
export const ConfigSchema = v.object(
  {
    protocol: v.optional(field(oneOf("protocol", ["https", "http"] as const)), "https"),
    hostname: field(hostname),
    port: v.optional(field(serverPort), null),
    api_path: v.optional(field(apiPath), "/act.web.api"),
    username: field(requiredText("username", "the Act! user's display name")),
    password: field(secretText("password", "the Act! user's password", true)),
    database_name: field(requiredText("database_name", "the Act! database name")),
    batch_size: v.optional(field(integer("batch_size", 1, MAX_BATCH_SIZE)), 10000),
    rate_limit_pause: v.optional(
      field(
        numberIn(
          "rate_limit_pause",
          (n) => n >= 0 && n <= MAX_PAUSE_SECONDS,
          `a number of seconds from 0 to ${MAX_PAUSE_SECONDS}`,
        ),
      ),
      0.25,
    ),
    default_start_date: v.optional(field(isoDate), "1900-01-01T00:00:00Z"),
    destination: v.optional(field(destination), "sqlite:act.db"),
    state_file: v.optional(field(nonEmptyText("state_file")), "state.json"),
    tables: v.optional(field(tables), () => [...TABLE_NAMES]),
    schedule: v.optional(field(cron("schedule")), "*/15 * * * *"),
    reconcile_schedule: v.optional(field(cron("reconcile_schedule")), "0 3 * * *"),
    http_host: v.optional(field(nonEmptyText("http_host")), "127.0.0.1"),
    http_port: v.optional(field(portNumber("http_port")), 8787),
    http_token: field(optionalText("http_token")),
    http_allowed_hosts: v.optional(field(hostNames), () => []),
    lookback_seconds: v.optional(
      field(integer("lookback_seconds", 0, MAX_LOOKBACK_SECONDS, " number of seconds")),
      60,
    ),
    request_timeout_seconds: v.optional(
      field(
        numberIn(
          "request_timeout_seconds",
          (n) => n >= 1 && n <= MAX_TIMEOUT_SECONDS,
          `a number of seconds from 1 to ${MAX_TIMEOUT_SECONDS}`,
        ),
      ),
      120,
    ),
    max_retries: v.optional(field(integer("max_retries", 0, MAX_RETRIES)), 3),
    /** Consecutive failed runs before `/health` answers 503 "failing" (1–100). */
    unhealthy_after_failures: v.optional(
      field(integer("unhealthy_after_failures", 1, 100)),
      1,
    ),
    endpoints: v.optional(field(endpoints), () => ({})),
    log_level: v.optional(
      field(
        oneOf<LogLevel>("log_level", LOG_LEVELS, {
          debug: "FINE",
          warn: "WARNING",
          error: "SEVERE",
        }),
      ),
      "INFO",
    ),
    log_format: v.optional(field(oneOf("log_format", ["text", "json"] as const)), "text"),
    log_file: field(optionalText("log_file")),
    log_max_bytes: v.optional(
      field(integer("log_max_bytes", 1024, MAX_LOG_BYTES, " number of bytes")),
      10 * 1024 * 1024,
    ),
    ca_file: field(optionalText("ca_file")),
    tls_verify: v.optional(field(bool("tls_verify")), true),
    max_delete_fraction: v.optional(
      field(numberIn("max_delete_fraction", (n) => n >= 0 && n <= 1, "a number from 0 to 1")),
      0.5,
    ),
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

/** The candidate nearest to `word` (Levenshtein, ignoring case), if it is near enough. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = levenshtein(w, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(w.length / 3)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}

export function redactDestination(destination: string): string {
  return destination.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^/]*@/i, "$1:***@");
}
