/**
 * Logging with the seed's levels (INFO, FINE, WARNING, SEVERE), as text or JSON lines.
 * Every message passes through {@linkcode redact} so that secrets registered with
 * {@linkcode Logger.addSecret} never reach a log line.
 *
 * @module
 */

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
}

/** A logger; every method is safe to call with secrets in the message (they are redacted). */
export interface Logger {
  fine(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warning(message: string, fields?: LogFields): void;
  severe(message: string, fields?: LogFields): void;
  /** Register a secret (password, token) to be replaced by `***` wherever it appears. */
  addSecret(secret: string | undefined | null): void;
  /** Replace every registered secret in a string. */
  redact(text: string): string;
  /** A logger writing to the same place with extra context fields. */
  child(context: LogFields): Logger;
  /** Whether a level would be written. */
  enabled(level: LogLevel): boolean;
}

/** Replace each secret (and its URL-encoded and base64 forms) in `text` by `***`. */
export function redact(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret || secret.length < 3) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      out = out.split(form).join("***");
    }
  }
  return out;
}

/** Create a logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = new Set<string>();
  return makeLogger(options, secrets, options.context ?? {});
}

function makeLogger(options: LoggerOptions, secrets: Set<string>, context: LogFields): Logger {
  const min = LOG_LEVELS.indexOf(options.level ?? "INFO");
  const write = options.write ?? ((line: string) => console.error(line));
  const now = options.now ?? (() => new Date());
  const format = options.format ?? "text";
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    const time = now().toISOString();
    let line: string;
    if (format === "json") {
      line = JSON.stringify({ time, level, message, ...context, ...fields });
    } else {
      const extra = fields && Object.keys(fields).length
        ? " " + Object.entries(fields).map(([k, v]) => `${k}=${formatValue(v)}`).join(" ")
        : "";
      line = `${time} ${level.padEnd(7)} ${message}${extra}`;
    }
    write(redact(line, secrets));
  };
  return {
    fine: (m, f) => emit("FINE", m, f),
    info: (m, f) => emit("INFO", m, f),
    warning: (m, f) => emit("WARNING", m, f),
    severe: (m, f) => emit("SEVERE", m, f),
    addSecret(secret) {
      if (secret) secrets.add(secret);
    },
    redact: (text) => redact(text, secrets),
    child: (extra) => makeLogger(options, secrets, { ...context, ...extra }),
    enabled: (level) => LOG_LEVELS.indexOf(level) >= min,
  };
}

function formatValue(value: unknown): string {
  if (typeof value === "string") return /\s/.test(value) ? JSON.stringify(value) : value;
  if (value instanceof Error) return JSON.stringify(value.message);
  return JSON.stringify(value);
}

/** A logger that writes nothing (tests, library use). */
export function silentLogger(): Logger {
  return createLogger({ level: "SEVERE", write: () => {} });
}
