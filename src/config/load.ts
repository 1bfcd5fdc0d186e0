/**
 * Parsing and loading the configuration: a pure {@linkcode parseConfig} that merges file,
 * environment (`ACT_<KEY>`) and CLI overrides through the schema (src/config/schema.ts), and a thin
 * {@linkcode loadConfig} that reads `configuration.json`.
 *
 * @module
 */
import * as v from "valibot";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { ConfigError, errorMessage } from "../core/errors.ts";
import { readRegularFile, readRegularFileSync } from "../core/files.ts";
import { redactUrlCredentials, Secrets, urlPasswords } from "../core/secrets.ts";
import { caFileProblem } from "../act/tls.ts";
import { findDuplicateKeys, findJsonError } from "./_json_locator.ts";
import { closest } from "../core/closest.ts";
import { notifySecrets, resolveNotifyPasswords, showWebhook } from "./_notify.ts";
import { fieldRuleProblems } from "./_fields.ts";
import {
  type Config,
  CONFIG_KEYS,
  ConfigSchema,
  envName,
  isoDate,
  normalisePath,
  show,
} from "./schema.ts";
import { utcMs } from "../core/time.ts";

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
  /**
   * The process's one redaction: when given, the secrets found in the raw merged values
   * (`password`, `username:password`, `http_token`, the password of a PostgreSQL URL), whatever
   * their JSON type, are added to it before anything is validated, so that even a message about
   * a malformed secret is redacted wherever it is printed.
   */
  secrets?: Secrets;
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

  for (const secret of rawSecrets(merged)) options.secrets?.add(secret);
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
  const result = v.safeParse(ConfigSchema, input, { abortEarly: false, abortPipeEarly: true });
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
    ? caFileProblem(caFile, options.readTextFile)
    : undefined;
  if (caProblem) {
    issues.push(caProblem + (source.ca_file === "env" ? ` (from ${envName("ca_file")})` : ""));
  }
  // Checked even when other keys are wrong, so that every problem is listed at once.
  const start = merged.default_start_date === undefined
    ? undefined
    : isoDate(merged.default_start_date);
  if (start !== undefined && options.now !== undefined && utcMs(start) > options.now) {
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

  if (result.success) {
    const problems = resolveNotifyPasswords(result.output.notify, options.env ?? {});
    issues.push(...problems, ...fieldRuleProblems(result.output));
    for (const target of result.output.notify) {
      if (target.kind === "email") options.secrets?.add(target.password);
    }
  }

  const secrets = new Secrets(rawSecrets(merged));
  const clean = (text: string): string => secrets.redact(text);
  if (!result.success || issues.length) {
    const error = new ConfigError(issues.map(clean));
    error.log = namedLog(merged, options.baseDir);
    throw error;
  }

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
  if (config.publish_to !== undefined) {
    config.publish_to = resolvePath(options.baseDir, config.publish_to);
    if (!config.destination.startsWith("sqlite:")) {
      warnings.push(`'publish_to' is ignored: it copies a SQLite destination only`);
    }
  }
  if (config.report_role !== undefined && config.destination.startsWith("sqlite:")) {
    warnings.push(`'report_role' is ignored: it applies to a PostgreSQL destination only`);
  }
  if (config.tls_verify === false) {
    warnings.push(
      `'tls_verify' is false: the Act! server's certificate is not checked; prefer 'ca_file'`,
    );
  }
  return { config, warnings: warnings.map(clean) };
}

/**
 * The log file and format named by the merged raw values, whatever else is wrong, so that a
 * config error can be written to it.
 */
function namedLog(
  merged: Record<string, unknown>,
  baseDir: string,
): { file?: string; format: "text" | "json" } {
  const file = typeof merged.log_file === "string" && merged.log_file.trim()
    ? resolvePath(baseDir, merged.log_file.trim())
    : undefined;
  const format = typeof merged.log_format === "string" &&
      merged.log_format.trim().toLowerCase() === "json"
    ? "json"
    : "text";
  return { file, format };
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

/**
 * Resolve a path from the config against `baseDir`. Absolute paths are kept; on Linux a Windows
 * path (`C:\data\act.db`, `Z:/x`, `\\server\share`) counts as absolute too.
 */
function resolvePath(baseDir: string, file: string): string {
  if (path.isAbsolute(file)) return path.resolve(file);
  if (path.win32.isAbsolute(file) && /^([a-z]:[\\/]|\\\\)/i.test(file)) return file;
  return path.resolve(baseDir, file);
}

/**
 * The secrets in the raw merged values, whatever their JSON type (a token written as an array
 * still holds the token): every text in `password` and `http_token`, `username:password`, and
 * the password of every URL in `destination`.
 */
function rawSecrets(merged: Record<string, unknown>): string[] {
  const out = [
    ...texts(merged.password),
    ...texts(merged.http_token),
    ...texts(merged.hash_key),
    ...notifySecrets(merged.notify),
  ];
  const username = typeof merged.username === "string" ? merged.username.trim() : "";
  for (const password of texts(merged.password)) {
    if (username) out.push(`${username}:${password}`);
  }
  for (const text of texts(merged.destination)) {
    for (const password of urlPasswords(text)) out.push(password, decodeSafely(password));
  }
  return out;
}

/** Every string (and finite number, as its digits) inside a value, nested ones included. */
function texts(value: unknown, depth = 0): string[] {
  if (typeof value === "string") return [value, value.trim()];
  if (typeof value === "number" && Number.isFinite(value)) return [String(value)];
  if (!value || typeof value !== "object" || depth > 8) return [];
  return Object.values(value).flatMap((item) => texts(item, depth + 1));
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * A copy of the config safe to print: `password`, `http_token` and the password inside a
 * PostgreSQL destination URL become `***`.
 */
export function redactConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(config);
  if (config.password) out.password = "***";
  if (config.http_token) out.http_token = "***";
  if (config.hash_key) out.hash_key = "***";
  out.destination = redactUrlCredentials(config.destination);
  out.notify = config.notify.map((target) =>
    target.kind === "webhook"
      ? { ...target, url: showWebhook(target.url) }
      : { ...target, password: target.password ? "***" : "" }
  );
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
  /** Folder of the executable: searched for `configuration.json` when `cwd` has none. */
  exeDir?: string;
  /** Values from CLI flags, keyed by config key. */
  overrides?: Record<string, unknown>;
  /** The process's one redaction, given the raw secrets early (see {@linkcode ParseConfigOptions}). */
  secrets?: Secrets;
}

const REQUIRED_ENV = ["hostname", "username", "password", "database_name"].map(envName);

/**
 * Read and parse the config file. The path is `options.path`, else `ACT_SYNC_CONFIG`, else
 * `configuration.json` in `cwd`, else `configuration.json` in `exeDir`. When no path was given, the default file is missing and the
 * environment sets `ACT_HOSTNAME`, `ACT_USERNAME`, `ACT_PASSWORD` and `ACT_DATABASE_NAME`, the
 * config comes from the environment alone (relative paths against `cwd`, with a warning).
 *
 * @throws {ConfigError} when the file is missing, unreadable, not JSON or not valid.
 */
export async function loadConfig(
  options: LoadConfigOptions,
): Promise<{ config: Config; warnings: string[]; path: string }> {
  try {
    return await loadConfigFile(options);
  } catch (error) {
    // A file that is missing or not JSON names no log file: the flags and environment may.
    if (error instanceof ConfigError && !error.log) {
      const merged: Record<string, unknown> = {};
      for (const key of ["log_file", "log_format"]) {
        merged[key] = options.overrides?.[key] ?? options.env[envName(key)];
      }
      error.log = namedLog(merged, options.cwd);
    }
    throw error;
  }
}

async function loadConfigFile(
  options: LoadConfigOptions,
): Promise<{ config: Config; warnings: string[]; path: string }> {
  const explicit = options.path || options.env.ACT_SYNC_CONFIG || "";
  const tried = [path.resolve(options.cwd, explicit || "configuration.json")];
  if (!explicit && options.exeDir) {
    const besideExe = path.resolve(options.exeDir, "configuration.json");
    if (besideExe !== tried[0]) tried.push(besideExe);
  }
  const file = tried.find((candidate) => existsSync(candidate)) ?? tried[0];
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(file);
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
          secrets: options.secrets,
        });
        warnings.unshift(`No config file at "${file}": using the ACT_* environment variables only`);
        return { config, warnings, path: file };
      }
      throw new ConfigError([
        `Config file not found: tried "${
          tried.join('", "')
        }": create it with at least "hostname", "username", ` +
        `"password" and "database_name" (see docs/configuration.md), or pass ` +
        `--config FILE, or set ACT_SYNC_CONFIG`,
      ], { cause: error });
    }
    const reason = errorMessage(error) +
      (code === "ENOTREG" ? ": give the path of the JSON file (--config, ACT_SYNC_CONFIG)" : "");
    throw new ConfigError([`Cannot read the config file "${file}": ${reason}`], { cause: error });
  }
  const { raw, duplicates } = parseJsonFile(file, bytes);
  const { config, warnings } = parseConfig(raw, {
    env: options.env,
    overrides: options.overrides,
    baseDir: path.dirname(file),
    readTextFile: readText,
    now: Date.now(),
    secrets: options.secrets,
  });
  return { config, warnings: [...duplicates, ...warnings], path: file };
}

function readText(file: string): string {
  return readRegularFileSync(file).toString("utf8");
}

/**
 * Decode (UTF-8 with or without BOM, or UTF-16 with BOM) and parse, with line and column on error;
 * `duplicates` warns of every key written twice in one object (the last one is used).
 */
function parseJsonFile(file: string, bytes: Uint8Array): { raw: unknown; duplicates: string[] } {
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
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    const found = findJsonError(text);
    const where = found ? ` at line ${found.line}, column ${found.column}: ${found.reason}` : "";
    throw new ConfigError([`The config file "${file}" is not valid JSON${where}`], {
      cause: error,
    });
  }
  const duplicates = findDuplicateKeys(text).map(({ path, lines }) =>
    `Key ${show(path.join("."))} is written ${lines.length} times in the config file ` +
    `(lines ${lines.join(", ")}): the last one, on line ${lines.at(-1)}, is used`
  );
  return { raw, duplicates };
}
