/**
 * What a failed connection means for the configuration: which config key to fix next to the
 * low-level reason, and whether retrying can help (a host name that does not resolve cannot).
 * Also the connect timeout ({@linkcode withConnectTimeout}): connecting gets a few seconds of its
 * own, apart from the timeout of the whole request.
 *
 * @module
 */
import net from "node:net";

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
const CONNECT_TIMEOUT = /no connection within/i;
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
  if (CONNECT_TIMEOUT.test(text)) {
    return {
      unresolved: false,
      hint: "check 'hostname', 'port' and the firewall: nothing answered there (or raise " +
        "'connect_timeout_seconds', or set it to 0 behind an HTTP proxy)",
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

/** Connecting to the server took longer than the connect timeout. */
export class ConnectTimeoutError extends Error {
  /** `ETIMEDOUT`, as Node names a connect that timed out. */
  readonly code = "ETIMEDOUT";
  constructor(ms: number, host: string, port: number) {
    super(`no connection within ${ms} ms to ${host}:${port}`);
    this.name = "ConnectTimeoutError";
  }
}

/**
 * Open a TCP connection to `url`'s host and port and close it again; rejects with the connect
 * error (`ECONNREFUSED`…) or a {@linkcode ConnectTimeoutError} after `timeoutMs`.
 */
export function probeConnect(
  url: URL,
  timeoutMs: number,
  signal?: AbortSignal,
  /** The time the error names (the request's whole wait for a connection). */
  shownMs: number = timeoutMs,
): Promise<void> {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return resolve();
    const socket = net.connect({ host, port });
    const done = (error?: unknown) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => done();
    const timer = setTimeout(() => done(new ConnectTimeoutError(shownMs, host, port)), timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    // A socket that "connected" without a peer is not connected: the Windows build under Wine
    // reports a refused connection that way (and its fetch then waits for ever).
    socket.once("connect", () => done(socket.remoteAddress ? undefined : notConnected(host, port)));
    socket.once("error", (error) => done(error));
  });
}

/** The error for a connection that reported success without a peer: a refusal. */
function notConnected(host: string, port: number): Error {
  const error = new Error(`connect ECONNREFUSED ${host}:${port} (connected without a peer)`);
  (error as Error & { code: string }).code = "ECONNREFUSED";
  return error;
}

/**
 * `inner` with a connect timeout: when a request has no response after a moment (half the
 * timeout, at most 1 s), a TCP connection to the same host and port is opened beside it (and
 * closed at once). When that one is refused or not made within the rest of `timeoutMs`, and
 * still no response has come, the request is aborted with that error; so a closed port or a host
 * that never answers fails in seconds, whatever the runtime's own fetch does (under Wine, the
 * Windows build's fetch meets a closed port with no error at all, and its sockets report such a
 * connection as made, without a peer address). A request answered in time opens no second
 * connection. `timeoutMs` 0 returns `inner`. Behind an HTTP proxy the check would go around it:
 * turn it off there.
 */
export function withConnectTimeout(
  inner: typeof fetch,
  timeoutMs: number,
  probe: typeof probeConnect = probeConnect,
): typeof fetch {
  if (!(timeoutMs > 0)) return inner;
  const delayMs = Math.min(1_000, timeoutMs / 2);
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const outer = init?.signal ?? undefined;
    const controller = new AbortController();
    const onAbort = () => controller.abort(outer?.reason);
    if (outer?.aborted) controller.abort(outer.reason);
    outer?.addEventListener("abort", onAbort, { once: true });
    const probing = new AbortController();
    let answered = false;
    const timer = setTimeout(() => {
      probe(url, timeoutMs - delayMs, probing.signal, timeoutMs).catch((error) => {
        if (!answered) controller.abort(error);
      });
    }, delayMs);
    try {
      // The outer signal keeps reaching the request while its body is read.
      const response = await inner(input, { ...init, signal: controller.signal });
      answered = true;
      return response;
    } catch (error) {
      outer?.removeEventListener("abort", onAbort);
      if (controller.signal.aborted && !outer?.aborted) throw controller.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
      probing.abort();
    }
  };
}
