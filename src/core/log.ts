/**
 * Logging with the Python connector's levels (INFO, FINE, WARNING, SEVERE), as text or JSON lines.
 * Every line passes through the one redaction ({@linkcode Secrets}), so that secrets registered
 * with {@linkcode Logger.addSecret} (or on the shared `secrets`) never reach a log line, and
 * through {@linkcode escapeControl}, so that text from the server (error bodies, field names)
 * cannot recolour the terminal or forge a line: every control character, newline included, is
 * written as an escape (`\n`, `\u001b`).
 *
 * @module
 */
import { escapeControl, escapeControlInJson, Secrets } from "./secrets.ts";

/** Log levels, most verbose first. */
export const LOG_LEVELS = ["FINE", "INFO", "WARNING", "SEVERE"] as const;
/** One of {@linkcode LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];
/** Extra structured fields for a log line. */
export type LogFields = Record<string, unknown>;

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Lowest level written. @default {"INFO"} */
  level?: LogLevel;
  /** `text` or one JSON object per line. @default {"text"} */
  format?: "text" | "json";
  /** Where lines go. @default {console.error} */
  write?: (line: string) => void;
  /** Clock for timestamps. @default {() => new Date()} */
  now?: () => Date;
  /** Added to every JSON line (e.g. the run id). */
  context?: LogFields;
  /** The secrets to redact, shared with the rest of the process. @default {a new, empty set} */
  secrets?: Secrets;
}

/** A logger; every method is safe to call with secrets in the message (they are redacted). */
export interface Logger {
  fine(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warning(message: string, fields?: LogFields): void;
  severe(message: string, fields?: LogFields): void;
  /** Register a secret (password, token) to be replaced by `***` wherever it appears. */
  addSecret(secret: string | undefined | null): void;
  /** Replace every registered secret in a string (the one redaction, {@linkcode Secrets}). */
  redact(text: string): string;
  /** The secrets this logger redacts (shared by its children). */
  readonly secrets: Secrets;
  /** A logger writing to the same place with extra context fields. */
  child(context: LogFields): Logger;
  /** Whether a level would be written. */
  enabled(level: LogLevel): boolean;
}

/** Create a logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return makeLogger(options, options.secrets ?? new Secrets(), options.context ?? {});
}

function makeLogger(options: LoggerOptions, secrets: Secrets, context: LogFields): Logger {
  const min = LOG_LEVELS.indexOf(options.level ?? "INFO");
  const write = options.write ?? ((line: string) => console.error(line));
  const now = options.now ?? (() => new Date());
  const format = options.format ?? "text";
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    const time = now().toISOString();
    let line: string;
    const all = loggableFields({ ...context, ...fields });
    const text = typeof message === "string" ? message : describe(loggable(message, new Set()));
    if (format === "json") {
      line = escapeControlInJson(secrets.json({ time, level, message: text, ...all }));
    } else {
      const clean = (text: string) => escapeControl(secrets.redact(text));
      const entries = fields ? Object.keys(all).filter((k) => Object.hasOwn(fields, k)) : [];
      const extra = entries.length
        ? " " + entries.map((k) => `${clean(k)}=${clean(describe(all[k]))}`).join(" ")
        : "";
      line = escapeControl(secrets.redact(`${time} ${level.padEnd(7)} ${clean(text)}${extra}`));
    }
    write(line);
  };
  return {
    fine: (m, f) => emit("FINE", m, f),
    info: (m, f) => emit("INFO", m, f),
    warning: (m, f) => emit("WARNING", m, f),
    severe: (m, f) => emit("SEVERE", m, f),
    addSecret: (secret) => secrets.add(secret),
    redact: (text) => secrets.redact(text),
    secrets,
    child: (extra) => makeLogger(options, secrets, { ...context, ...extra }),
    enabled: (level) => LOG_LEVELS.indexOf(level) >= min,
  };
}

/** How a field value is written in a text line (a value from {@linkcode loggable}). */
function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "string") {
    return /\s/.test(value) || value === "" ? JSON.stringify(value) : value;
  }
  return JSON.stringify(value);
}

/** Deepest nesting of a field value that is written; deeper parts become `"[…]"`. */
const MAX_FIELD_DEPTH = 8;

/**
 * The fields as JSON-safe values (see {@linkcode loggable}); a field whose keys cannot be read
 * is written as one `fields` entry saying so.
 */
function loggableFields(fields: LogFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  try {
    for (const key of Object.keys(fields)) out[key] = loggable(read(fields, key), new Set());
  } catch {
    out.fields = "[unreadable]";
  }
  return out;
}

function read(object: object, key: string): unknown {
  try {
    return (object as Record<string, unknown>)[key];
  } catch {
    return "[unreadable]";
  }
}

/**
 * Any value as one that `JSON.stringify` writes without throwing: `undefined` stays (text lines
 * show it, JSON lines leave the field out), a bigint or symbol becomes its text, an error its
 * message, a function `"[function]"`, a cycle `"[circular]"`, anything whose reading throws
 * `"[unreadable]"`.
 */
function loggable(value: unknown, seen: Set<object>, depth = 0): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
    case "undefined":
      return value;
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "bigint":
      return value.toString();
    case "symbol":
      return value.description === undefined ? "Symbol()" : `Symbol(${value.description})`;
    case "function":
      return "[function]";
  }
  if (value === null) return null;
  const object = value as object;
  if (seen.has(object)) return "[circular]";
  if (depth >= MAX_FIELD_DEPTH) return "[…]";
  try {
    if (object instanceof Error) return loggable(object.message, seen, depth + 1);
    if (object instanceof Date) {
      return Number.isNaN(object.getTime()) ? "Invalid Date" : object.toISOString();
    }
    seen.add(object);
    try {
      if (Array.isArray(object)) return object.map((item) => loggable(item, seen, depth + 1));
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(object)) {
        const item = loggable(read(object, key), seen, depth + 1);
        if (item !== undefined) out[key] = item;
      }
      return out;
    } finally {
      seen.delete(object);
    }
  } catch {
    return "[unreadable]";
  }
}

/** A logger that writes nothing (tests, library use). */
export function silentLogger(): Logger {
  return createLogger({ level: "SEVERE", write: () => {} });
}
