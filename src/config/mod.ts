/**
 * Configuration: the valibot schema (the single source of the {@linkcode Config} type), a pure
 * {@linkcode parseConfig} that merges file, environment (`ACT_<KEY>`) and CLI overrides, and a thin
 * {@linkcode loadConfig} that reads `configuration.json`.
 *
 * Every value may be written as a string (as in the seed's file) or as a JSON number/boolean.
 * Problems are collected and thrown together as one {@linkcode ConfigError}; each names the key and
 * the bad value, never the password or token.
 *
 * @example
 * ```ts
 * import { loadConfig, redactConfig } from "./mod.ts";
 * const { config, warnings } = await loadConfig({ env: process.env, cwd: process.cwd() });
 * console.log(redactConfig(config), warnings);
 * ```
 *
 * @module
 */
import * as v from "valibot";
import { Cron } from "croner";
import { readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../core/errors.ts";
import { LOG_LEVELS, type LogLevel } from "../core/log.ts";
import { Secrets } from "../core/secrets.ts";
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
function show(value: unknown): string {
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

function normalisePath(text: string): string {
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

function isoDate(input: unknown): Converted<string> {
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
  return { value: new Date(ms).toISOString().replace(/\.000Z$/, "Z") };
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

// ---------------------------------------------------------------------------------------------
// Parsing.

/** Options for {@linkcode parseConfig}. */
export interface ParseConfigOptions {
  /** Environment; `ACT_<KEY>` wins over the file, empty values are ignored. @default {{}} */
  env?: Record<string, string | undefined>;
  /** Values from CLI flags, keyed by config key; win over env and file. @default {{}} */
  overrides?: Record<string, unknown>;
  /** Folder of the config file: relative paths inside are resolved against it. */
  baseDir: string;
  /**
   * Reads a text file; when given, `ca_file` is checked to exist and look like PEM. Without it
   * (the pure default) `ca_file` is only resolved. {@linkcode loadConfig} passes a real reader.
   */
  readTextFile?: (path: string) => string;
  /**
   * The host clock in ms; when given, a `default_start_date` in the future is refused. Without
   * it (the pure default) the date is not compared. {@linkcode loadConfig} passes `Date.now()`.
   */
  now?: number;
}

/** Keys in the file that are never reported as unknown (`$schema`, `_comment`, `//`…). */
const IGNORED_KEY = /^(\$schema$|_|\/\/|#)/;

/**
 * Validate and normalise a configuration. `raw` is the parsed config file (or `undefined` when
 * running from the environment alone). Pure: reads no env, file or clock except through `options`.
 *
 * @throws {ConfigError} listing every problem at once.
 */
export function parseConfig(
  raw: unknown,
  options: ParseConfigOptions,
): { config: Config; warnings: string[] } {
  const warnings: string[] = [];
  const issues: string[] = [];
  const file = raw === undefined ? {} : raw;
  if (typeof file !== "object" || file === null || Array.isArray(file)) {
    throw new ConfigError([
      `The configuration file must contain a JSON object ({ "hostname": ... }): found ${
        Array.isArray(file) ? "an array" : file === null ? "null" : `a ${typeof file}`
      }`,
    ]);
  }

  // Merge: file < env < overrides. "" and null mean "not set".
  const merged: Record<string, unknown> = {};
  const source: Record<string, "file" | "env" | "override"> = {};
  const known = new Set<string>(CONFIG_KEYS);
  for (const [key, value] of Object.entries(file)) {
    if (!known.has(key)) {
      if (!IGNORED_KEY.test(key)) warnings.push(unknownKeyWarning(key, "in the config file"));
      continue;
    }
    if (value === null || value === "") continue;
    merged[key] = value;
    source[key] = "file";
  }
  for (const key of CONFIG_KEYS) {
    const value = options.env?.[envName(key)];
    if (value === undefined || value === "") continue;
    merged[key] = value;
    source[key] = "env";
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value === undefined) continue;
    if (!known.has(key)) {
      warnings.push(unknownKeyWarning(key, "among the overrides"));
      continue;
    }
    merged[key] = value;
    source[key] = "override";
  }

  normaliseHostname(merged, warnings);
  if (
    typeof merged.api_path === "string" && merged.api_path.trim() &&
    !merged.api_path.trim().startsWith("/")
  ) {
    const fixed = normalisePath(merged.api_path.trim());
    warnings.push(
      `'api_path' should start with "/": using ${show(fixed)} (write "api_path": ${show(fixed)})`,
    );
  }

  const input: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) input[key] = merged[key];
  const result = v.safeParse(ConfigSchema, input, { abortEarly: false });
  if (!result.success) {
    for (const issue of result.issues) {
      const key = String(issue.path?.[0]?.key ?? "");
      const from = source[key] === "env"
        ? ` (from ${envName(key)})`
        : source[key] === "override"
        ? " (from the command line)"
        : "";
      for (const line of issue.message.split("\n  - ")) issues.push(line + from);
    }
  }

  // ca_file is checked even when other keys are wrong, so that every problem is listed at once.
  const caFile = typeof merged.ca_file === "string" && merged.ca_file.trim()
    ? resolvePath(options.baseDir, merged.ca_file.trim())
    : undefined;
  const caProblem = caFile && options.readTextFile
    ? checkPem(caFile, options.readTextFile)
    : undefined;
  if (caProblem) {
    issues.push(caProblem + (source.ca_file === "env" ? ` (from ${envName("ca_file")})` : ""));
  }
  // Checked even when other keys are wrong, so that every problem is listed at once.
  const parsedStart = merged.default_start_date === undefined
    ? undefined
    : isoDate(merged.default_start_date);
  const start = parsedStart && "value" in parsedStart ? parsedStart.value : undefined;
  if (start !== undefined && options.now !== undefined && Date.parse(start) > options.now) {
    const from = source.default_start_date === "env"
      ? ` (from ${envName("default_start_date")})`
      : source.default_start_date === "override"
      ? " (from the command line)"
      : "";
    issues.push(
      `'default_start_date' is in the future: current value is ${show(start)}: ` +
        `the first run reads every row edited since this date; use a past date like ` +
        `"1900-01-01T00:00:00Z"${from}`,
    );
  }

  const secrets = new Secrets(
    [merged.password, merged.http_token, postgresPassword(merged.destination)]
      .filter((s): s is string => typeof s === "string"),
  );
  const clean = (text: string): string => secrets.redact(text);
  if (!result.success || issues.length) throw new ConfigError(issues.map(clean));

  const config = result.output;
  config.destination = config.destination.startsWith("sqlite:") &&
      config.destination !== "sqlite::memory:"
    ? `sqlite:${resolvePath(options.baseDir, config.destination.slice("sqlite:".length))}`
    : config.destination;
  config.state_file = resolvePath(options.baseDir, config.state_file);
  if (config.log_file !== undefined) {
    config.log_file = resolvePath(options.baseDir, config.log_file);
  }
  if (config.ca_file !== undefined) config.ca_file = resolvePath(options.baseDir, config.ca_file);
  if (config.tls_verify === false) {
    warnings.push(
      `'tls_verify' is false: the Act! server's certificate is not checked; prefer 'ca_file'`,
    );
  }
  return { config, warnings: warnings.map(clean) };
}

/**
 * A hostname written as a URL (`https://act.example.com:8443/act.web.api`) is split into
 * protocol, hostname, port and api_path with a warning, unless a part contradicts a key that is
 * set; then it is left alone and the schema rejects it with the fix.
 */
function normaliseHostname(merged: Record<string, unknown>, warnings: string[]): void {
  const raw = merged.hostname;
  if (typeof raw !== "string") return;
  const text = raw.trim();
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
  const colons = text.match(/:/g)?.length ?? 0;
  const bareIpv6 = !hasScheme && colons >= 2 && !text.startsWith("[") && !text.includes("/");
  if (bareIpv6) return;
  if (/^\[[^\]]*\]$/.test(text)) {
    merged.hostname = text.slice(1, -1);
    return;
  }
  if (!hasScheme && !/[/:]/.test(text)) return;
  const protocolSet = typeof merged.protocol === "string" && merged.protocol.trim() !== "";
  let url: URL;
  try {
    url = new URL(
      hasScheme ? text : `${protocolSet ? String(merged.protocol).trim() : "https"}://${text}`,
    );
  } catch {
    return;
  }
  const scheme = url.protocol.replace(/:$/, "").toLowerCase();
  if (scheme !== "http" && scheme !== "https") return;
  if (url.username || url.password || url.search || url.hash) return;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = url.port === "" ? null : Number(url.port);
  const apiPath = normalisePath(decodeURIComponent(url.pathname));
  const currentPort = merged.port === undefined ? undefined : Number(merged.port);
  const currentPath = typeof merged.api_path === "string"
    ? normalisePath(merged.api_path.trim())
    : undefined;
  if (hasScheme && protocolSet && String(merged.protocol).trim().toLowerCase() !== scheme) return;
  if (port !== null && currentPort !== undefined && currentPort !== port) return;
  if (apiPath !== "" && currentPath !== undefined && currentPath !== apiPath) return;
  merged.hostname = host;
  if (hasScheme) merged.protocol = scheme;
  if (port !== null) merged.port = port;
  if (apiPath !== "") merged.api_path = apiPath;
  const parts = [
    `"protocol": "${hasScheme ? scheme : protocolSet ? String(merged.protocol).trim() : "https"}"`,
    `"hostname": ${show(host)}`,
    `"port": "${port ?? merged.port ?? ""}"`,
    `"api_path": ${show(apiPath || currentPath || "/act.web.api")}`,
  ];
  warnings.push(
    `'hostname' should be a bare host name: current value is ${show(raw)}; ` +
      `using ${parts.join(", ")} (write it that way in the config file)`,
  );
}

function unknownKeyWarning(key: string, where: string): string {
  const guess = closest(key, CONFIG_KEYS);
  return `Unknown key "${key}" ${where} is ignored` + (guess ? `: did you mean "${guess}"?` : "");
}

/** The candidate nearest to `word` (Levenshtein, ignoring case), if it is near enough. */
function closest(word: string, candidates: readonly string[]): string | undefined {
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

/**
 * Resolve a path from the config against `baseDir`. Absolute paths are kept; on Linux a Windows
 * path (`C:\data\act.db`, `Z:/x`, `\\server\share`) counts as absolute too.
 */
function resolvePath(baseDir: string, file: string): string {
  if (path.isAbsolute(file)) return path.resolve(file);
  if (path.win32.isAbsolute(file) && /^([a-z]:[\\/]|\\\\)/i.test(file)) return file;
  return path.resolve(baseDir, file);
}

function checkPem(file: string, read: (path: string) => string): string | undefined {
  let text: string;
  try {
    text = read(file);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `'ca_file' cannot be read: current value is ${show(file)}: ${reason}`;
  }
  if (!/-----BEGIN [A-Z0-9 ]+-----/.test(text)) {
    return `'ca_file' is not a PEM certificate file (no "-----BEGIN CERTIFICATE-----" line): current value is ${
      show(file)
    }`;
  }
  return undefined;
}

function postgresPassword(destination: unknown): string | undefined {
  if (typeof destination !== "string" || !/^postgres(ql)?:\/\//i.test(destination.trim())) {
    return undefined;
  }
  try {
    const password = new URL(destination.trim()).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}

function redactDestination(destination: string): string {
  return destination.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^/]*@/i, "$1:***@");
}

/**
 * A copy of the config safe to print: `password`, `http_token` and the password inside a
 * PostgreSQL destination URL become `***`.
 */
export function redactConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(config);
  if (config.password) out.password = "***";
  if (config.http_token) out.http_token = "***";
  out.destination = redactDestination(config.destination);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Loading.

/** Options for {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** Config file (`--config`); relative to `cwd`. @default {env.ACT_SYNC_CONFIG ?? "configuration.json"} */
  path?: string;
  /** Environment variables. */
  env: Record<string, string | undefined>;
  /** Working directory. */
  cwd: string;
  /** Values from CLI flags, keyed by config key. */
  overrides?: Record<string, unknown>;
}

const REQUIRED_ENV = ["hostname", "username", "password", "database_name"].map(envName);

/**
 * Read and parse the config file. The path is `options.path`, else `ACT_SYNC_CONFIG`, else
 * `configuration.json` in `cwd`. When no path was given, the default file is missing and the
 * environment sets `ACT_HOSTNAME`, `ACT_USERNAME`, `ACT_PASSWORD` and `ACT_DATABASE_NAME`, the
 * config comes from the environment alone (relative paths against `cwd`, with a warning).
 *
 * @throws {ConfigError} when the file is missing, unreadable, not JSON or not valid.
 */
export async function loadConfig(
  options: LoadConfigOptions,
): Promise<{ config: Config; warnings: string[]; path: string }> {
  const explicit = options.path || options.env.ACT_SYNC_CONFIG || "";
  const file = path.resolve(options.cwd, explicit || "configuration.json");
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT") {
      if (!explicit && REQUIRED_ENV.every((name) => options.env[name])) {
        const { config, warnings } = parseConfig(undefined, {
          env: options.env,
          overrides: options.overrides,
          baseDir: options.cwd,
          readTextFile: readText,
          now: Date.now(),
        });
        warnings.unshift(`No config file at "${file}": using the ACT_* environment variables only`);
        return { config, warnings, path: file };
      }
      throw new ConfigError([
        `Config file not found: "${file}": create it with at least "hostname", "username", ` +
        `"password" and "database_name" (see the configuration table in README.md), or pass ` +
        `--config FILE, or set ACT_SYNC_CONFIG`,
      ], { cause: error });
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError([`Cannot read the config file "${file}": ${reason}`], { cause: error });
  }
  const raw = parseJsonFile(file, bytes);
  const { config, warnings } = parseConfig(raw, {
    env: options.env,
    overrides: options.overrides,
    baseDir: path.dirname(file),
    readTextFile: readText,
    now: Date.now(),
  });
  return { config, warnings, path: file };
}

function readText(file: string): string {
  return readFileSync(file, "utf8");
}

/** Decode (UTF-8 with or without BOM, or UTF-16 with BOM) and parse, with line and column on error. */
function parseJsonFile(file: string, bytes: Uint8Array): unknown {
  let text: string;
  try {
    if (bytes[0] === 0xff && bytes[1] === 0xfe) text = new TextDecoder("utf-16le").decode(bytes);
    else if (bytes[0] === 0xfe && bytes[1] === 0xff) {
      text = new TextDecoder("utf-16be").decode(bytes);
    } else text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new ConfigError([
      `The config file "${file}" is not valid UTF-8 text: save it as UTF-8 (in Notepad: Save As, Encoding: UTF-8)`,
    ], { cause: error });
  }
  text = text.replace(/^\uFEFF/, "");
  try {
    return JSON.parse(text);
  } catch (error) {
    const found = findJsonError(text);
    const where = found ? ` at line ${found.line}, column ${found.column}: ${found.reason}` : "";
    throw new ConfigError([`The config file "${file}" is not valid JSON${where}`], {
      cause: error,
    });
  }
}

/** Locate the first JSON syntax error (runtimes disagree on whether and how they report it). */
function findJsonError(text: string): { line: number; column: number; reason: string } | undefined {
  let i = 0;
  const fail = (reason: string, at = i): never => {
    throw new JsonSyntaxPosition(at, reason);
  };
  const ws = () => {
    while (i < text.length && /[ \t\r\n]/.test(text[i])) i++;
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const c = text[i];
      if (c === '"') {
        i++;
        return;
      }
      if (c === "\\") {
        const e = text[i + 1];
        if (e === "u" && /^[0-9a-f]{4}$/i.test(text.slice(i + 2, i + 6))) i += 6;
        else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else {
          fail(
            `invalid escape "\\${
              e ?? ""
            }" in a string: write a backslash as \\\\ (C:\\\\data\\\\act.db) or use /`,
          );
        }
        continue;
      }
      if (c < " ") fail("line break or control character inside a string (missing closing quote?)");
      i++;
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] === "}") fail(`trailing comma before "}"`);
        if (text[i] !== '"') {
          fail(text[i] === "'" ? "keys must use double quotes" : "expected a key in double quotes");
        }
        string();
        ws();
        if (text[i] !== ":") fail(`expected ":" after the key`);
        i++;
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        fail(
          i >= text.length
            ? 'unexpected end of file (missing "}"?)'
            : `expected "," or "}" (missing comma?)`,
        );
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] === "]") fail(`trailing comma before "]"`);
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        fail(
          i >= text.length
            ? 'unexpected end of file (missing "]"?)'
            : `expected "," or "]" (missing comma?)`,
        );
      }
    }
    if (c === '"') return string();
    for (const literal of ["true", "false", "null"]) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    const number = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    number.lastIndex = i;
    if (c !== undefined && /[-\d]/.test(c) && number.test(text)) {
      i = number.lastIndex;
      return;
    }
    if (c === undefined) fail("unexpected end of file");
    if (c === "'") fail("strings must use double quotes");
    if (c === "/") fail("comments are not allowed in JSON");
    fail(`unexpected character ${JSON.stringify(c)}`);
  };
  try {
    value();
    ws();
    if (i < text.length) fail("unexpected text after the end of the JSON object");
    return undefined;
  } catch (error) {
    if (!(error instanceof JsonSyntaxPosition)) throw error;
    const { at, reason } = error;
    const before = text.slice(0, at);
    const line = before.split("\n").length;
    const column = at - (before.lastIndexOf("\n") + 1) + 1;
    return { line, column, reason };
  }
}

class JsonSyntaxPosition {
  constructor(readonly at: number, readonly reason: string) {}
}
