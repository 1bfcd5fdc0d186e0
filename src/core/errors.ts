/**
 * The few error classes callers branch on.
 *
 * @module
 */

/**
 * The message of anything thrown: `error.message` for an Error, else its string form. With
 * `cause`, an Error cause's message follows after a colon (fetch's "fetch failed: connect
 * ECONNREFUSED …").
 */
export function errorMessage(error: unknown, options: { cause?: boolean } = {}): string {
  if (!(error instanceof Error)) return String(error);
  const cause = options.cause && error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}

/** A command line the CLI cannot run (unknown command, flag, table or argument); exit code 2. */
export class UsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** A configuration problem; the CLI exits with code 2. Each issue names the key. */
export class ConfigError extends Error {
  /** One human-readable line per problem, each naming the key and the bad value. */
  readonly issues: string[];
  /**
   * Set when loading the configuration failed: the log file it names (`log_file` from the
   * flags, the environment or the file, resolved; undefined when none can be found) and its
   * format, so that the error reaches the log of a run nobody watches.
   */
  log?: { file?: string; format: "text" | "json" };
  constructor(issues: string[], options?: ErrorOptions) {
    super(
      issues.length === 1
        ? `Cannot load config: ${issues[0]}`
        : `Cannot load config:\n  - ${issues.join("\n  - ")}`,
      options,
    );
    this.name = "ConfigError";
    this.issues = issues;
  }
}

/** A non-success HTTP answer from the Act! Web API (after any retries). */
export class HttpError extends Error {
  /** HTTP status code, or 0 when no response came (timeout, dropped connection). */
  readonly status: number;
  /** Request method. */
  readonly method: string;
  /** Request URL without credentials. */
  readonly url: string;
  /** The first few hundred characters of the response body (or the server's `message`). */
  readonly body: string;
  constructor(
    status: number,
    method: string,
    url: string,
    body: string,
    options?: ErrorOptions & { message?: string },
  ) {
    const detail = body ? `: ${body}` : "";
    super(options?.message ?? `${method} ${url} failed with status ${status}${detail}`, options);
    this.name = "HttpError";
    this.status = status;
    this.method = method;
    this.url = url;
    this.body = body;
  }
}

/**
 * Act! refused the login at `/authorize` (401, 400 or 403: username, password or database name);
 * the CLI exits with code 4. Retrying does not help.
 */
export class AuthError extends HttpError {
  constructor(
    status: number,
    method: string,
    url: string,
    body: string,
    options?: ErrorOptions & { message?: string },
  ) {
    super(status, method, url, body, options);
    this.name = "AuthError";
  }
}

/**
 * Act! refused the account itself, on any request (error 4031: no subscription, 4032: no API
 * permission): the run ends, the CLI exits with code 4, and the message says what to do.
 * Retrying does not help.
 */
export class AccessError extends AuthError {
  /** The Act! error code. */
  readonly code: number;
  constructor(
    code: number,
    status: number,
    url: string,
    body: string,
    options?: ErrorOptions & { message?: string },
  ) {
    super(status, "GET", url, body, options);
    this.name = "AccessError";
    this.code = code;
  }
}

/**
 * The destination could not be opened (PostgreSQL unreachable or refusing the login, a SQLite
 * file that cannot be created); the message is the cause's.
 */
export class DestinationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DestinationError";
  }
}

/** What to do about a refused login; every command that logs in ends its SEVERE line with it. */
export const LOGIN_ADVICE = "fix 'username', 'password' (or ACT_PASSWORD) or 'database_name'";

/**
 * What to do about a refused login, for the end of a SEVERE line: the login advice for an
 * {@linkcode AuthError}, nothing for an {@linkcode AccessError} (its message says it).
 */
export function refusedAdvice(error: unknown): string {
  if (error instanceof AccessError) return "";
  return `: ${LOGIN_ADVICE}; retrying does not help`;
}

/** Another act-sync process holds the lock on the state file; the CLI exits with code 3. */
export class LockError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LockError";
  }
}
