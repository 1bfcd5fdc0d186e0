/**
 * What a failed connection means for the configuration: which config key to fix next to the
 * low-level reason, and whether retrying can help (a host name that does not resolve cannot).
 *
 * @module
 */

/** The reading of one network error. */
export interface ConnectionProblem {
  /** The host name did not resolve: retrying does not help. */
  unresolved: boolean;
  /** What to check, naming the config keys; "" when the error says nothing recognisable. */
  hint: string;
}

/** Codes and texts (Deno, Bun, Node, Windows) of the errors {@linkcode connectionProblem} knows. */
const DNS = /ENOTFOUND|EAI_NONAME|dns error|getaddrinfo|name or service not known|no such host/i;
const REFUSED = /ECONNREFUSED|connection refused|actively refused|unable to connect/i;
const TLS =
  /certificate|self[- ]signed|UNABLE_TO_VERIFY|CERT_|DEPTH_ZERO|tls|ssl|wrong version number|handshake/i;
const TIMEOUT = /no response within|ETIMEDOUT|timed out/i;

/**
 * Read a network error: `detail` is its message (with its cause's), `code` its `code` (or its
 * cause's) when it has one.
 *
 * @example
 * ```ts
 * import { connectionProblem } from "./connection.ts";
 * connectionProblem("getaddrinfo ENOTFOUND act.example", "ENOTFOUND").unresolved; // true
 * ```
 */
export function connectionProblem(detail: string, code = ""): ConnectionProblem {
  const text = `${code} ${detail}`;
  if (DNS.test(text)) {
    return {
      unresolved: true,
      hint:
        "check 'hostname': the name does not resolve (a typo, or a name only another network knows)",
    };
  }
  if (REFUSED.test(text)) {
    return {
      unresolved: false,
      hint:
        "check 'hostname' and 'port': nothing accepts connections there (is the Act! web server running?)",
    };
  }
  if (TLS.test(text)) {
    return {
      unresolved: false,
      hint:
        "check 'protocol' (http or https for this port) and 'ca_file' (the CA that signed the server's certificate)",
    };
  }
  if (TIMEOUT.test(text)) {
    return {
      unresolved: false,
      hint: "check 'hostname', 'port' and the firewall, or raise 'request_timeout_seconds'",
    };
  }
  return { unresolved: false, hint: "" };
}

/** The `code` of an error or of its cause (`ENOTFOUND`, `ECONNREFUSED`), else "". */
export function errorCode(error: unknown): string {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return "";
}
