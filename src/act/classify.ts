/**
 * What one HTTP attempt of the client means, decided from the attempt alone (its
 * response or its network error) and the call's context: a value, an error to throw at once, a
 * token to renew, or a failure to retry. No I/O, no clock but the one passed in: the client's
 * loop does the sending, waiting and counting.
 *
 * @module
 */
import { AccessError, AuthError, errorMessage, HttpError } from "../core/errors.ts";
import { parseHttpDate } from "../core/time.ts";
import { errorExcerpt, UnusableBodyError } from "./body_errors.ts";
import { connectionProblem, errorCode } from "./connection.ts";
import { ACT_REFUSALS, actRefusal, parseRetryAfter, RETRY_POLICY } from "./retry.ts";

/** The start of the message thrown when `/authorize` refuses the credentials. */
export const AUTH_FAILED_MESSAGE =
  "Failed to authenticate: check username, password and database name";

/** One HTTP response, its body read. */
export interface Attempt {
  status: number;
  headers: Headers;
  /** The body as received (list pages are parsed from it: see `parseListBytes`). */
  bytes: Uint8Array;
  /** The body as text, decoded when first asked for; redacted unless the status is 2xx. */
  readonly text: string;
}

/** How a 2xx attempt becomes the call's value; throws `UnusableBodyError` for a bad body. */
export type Parse<T> = (attempt: Attempt) => T;

/** A failure that is retried (until the retries run out). */
export interface Failure {
  /** HTTP status, 0 when no response came. */
  status: number;
  /** What went wrong, redacted (the server's words, or the network error). */
  detail: string;
  /** The wait the server asked for (`Retry-After`), or null. */
  retryAfter: number | null;
  cause?: unknown;
}

/** What an attempt means. */
export type Verdict<T> =
  | { kind: "value"; value: T }
  | { kind: "throw"; error: Error }
  | { kind: "renew"; status: number }
  | { kind: "retry"; failure: Failure };

/** The call an attempt belongs to. */
export interface CallContext<T> {
  /** The URL without secrets, for messages. */
  shown: string;
  /** The call is `/authorize` (Basic credentials). */
  authorize: boolean;
  /** The call carries the token (a 401 renews it once). */
  auth: boolean;
  /** The token was renewed already during this call. */
  renewed: boolean;
  /** The host clock now, for a `Retry-After` date when the response has no `Date`. */
  now: number;
  parse: Parse<T>;
}

/** The server's clock at the response (its `Date` header), else the host's. */
export function serverNow(headers: Headers, hostNow: number): number {
  return parseHttpDate(headers.get("date") ?? "") ?? hostNow;
}

/** What an attempt that ended with a response, or with `error` (no response), means. */
export function classify<T>(
  outcome: { attempt: Attempt } | { error: unknown },
  context: CallContext<T>,
): Verdict<T> {
  const { shown } = context;
  if ("error" in outcome) {
    const detail = errorMessage(outcome.error, { cause: true });
    const problem = connectionProblem(detail, errorCode(outcome.error));
    if (problem.unresolved) {
      return {
        kind: "throw",
        error: new HttpError(0, "GET", shown, detail, {
          message: `GET ${shown} failed: ${detail}: ${problem.hint}`,
          cause: outcome.error,
        }),
      };
    }
    return {
      kind: "retry",
      failure: { status: 0, detail, retryAfter: null, cause: outcome.error },
    };
  }
  const { attempt } = outcome;
  const { status } = attempt;
  if (status >= 200 && status < 300) {
    try {
      return { kind: "value", value: context.parse(attempt) };
    } catch (error) {
      if (!(error instanceof UnusableBodyError)) throw error;
      return {
        kind: "retry",
        failure: { status, detail: error.message, retryAfter: null, cause: error },
      };
    }
  }
  const refusal = actRefusal(attempt.text);
  if (refusal !== null) {
    const { what, advice } = ACT_REFUSALS[refusal];
    return {
      kind: "throw",
      error: new AccessError(refusal, status, shown, errorExcerpt(attempt.text), {
        message: `Act! refused GET ${shown} with error ${refusal} (${what}, status ${status}): ` +
          `${advice}; retrying does not help`,
      }),
    };
  }
  if (context.authorize && (status === 400 || status === 401 || status === 403)) {
    const detail = errorExcerpt(attempt.text);
    return {
      kind: "throw",
      error: new AuthError(status, "GET", shown, detail, {
        message: `${AUTH_FAILED_MESSAGE}: GET ${shown} answered ${status}${
          detail ? `: ${detail}` : ""
        }${
          status === 403
            ? " (or the account lacks Web API access, or the server refuses this address)"
            : ""
        }`,
      }),
    };
  }
  if (context.auth && (RETRY_POLICY.renewStatuses as readonly number[]).includes(status)) {
    if (!context.renewed) return { kind: "renew", status };
    const detail = errorExcerpt(attempt.text);
    return {
      kind: "throw",
      error: new HttpError(status, "GET", shown, detail, {
        message: `GET ${shown} failed with status ${status} right after renewing the token${
          detail ? `: ${detail}` : ""
        }`,
      }),
    };
  }
  if ((RETRY_POLICY.retryStatuses as readonly number[]).includes(status)) {
    const retryAfter = (RETRY_POLICY.retryAfterStatuses as readonly number[]).includes(status)
      ? parseRetryAfter(attempt.headers.get("retry-after"), serverNow(attempt.headers, context.now))
      : null;
    return { kind: "retry", failure: { status, detail: errorExcerpt(attempt.text), retryAfter } };
  }
  return { kind: "throw", error: new HttpError(status, "GET", shown, errorExcerpt(attempt.text)) };
}

/** The error for a failure after the last retry: what failed, how often, and what to check. */
export function exhausted(failure: Failure, attempts: number, shown: string): HttpError {
  const tries = `${attempts} attempt${attempts > 1 ? "s" : ""}`;
  const what = failure.status === 0
    ? "failed with no response"
    : failure.cause instanceof UnusableBodyError
    ? `returned an unusable body (status ${failure.status})`
    : `failed with status ${failure.status}`;
  const hint = failure.status === 0
    ? connectionProblem(failure.detail, errorCode(failure.cause)).hint
    : "";
  return new HttpError(failure.status, "GET", shown, failure.detail, {
    message: `GET ${shown} ${what} after ${tries}${failure.detail ? `: ${failure.detail}` : ""}${
      hint ? `: ${hint}` : ""
    }`,
    cause: failure.cause,
  });
}
