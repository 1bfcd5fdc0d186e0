/**
 * Serving a `fetch` handler on a socket with Deno.serve or Bun.serve (one of the places that
 * differ between the runtimes, with the TLS client in src/act/tls.ts and the kernel locks in
 * src/state/_deno_lock.ts and src/state/_bun_locks.ts; src/core/runtime.ts tells them apart).
 *
 * A handler that throws is answered 500 with the fixed text `Internal Server Error`, in every
 * build: Bun's development error page (the working directory and lines of the bundled source) is
 * turned off, and the error goes to `onError` instead of the client.
 *
 * @module
 */
import { bunGlobal } from "./runtime.ts";

/** A running HTTP server. */
export interface Listener {
  /** The bound host name. */
  readonly hostname: string;
  /** The bound port (the real one when 0 was asked). */
  readonly port: number;
  /** Stop accepting connections and close open ones. */
  close(): Promise<void>;
}

/** Options for {@linkcode listen}. */
export interface ListenOptions {
  /** Interface to bind. @default {"127.0.0.1"} */
  hostname?: string;
  /** Port; 0 picks a free one. @default {0} */
  port?: number;
  /** PEM certificate chain: serve HTTPS when set together with `key`. */
  cert?: string;
  /** PEM private key for `cert`. */
  key?: string;
  /** Called with an error the handler threw (the client gets a plain 500). @default {ignore} */
  onError?: (error: unknown) => void;
}

/** A request handler in the shape of Hono's `app.fetch`. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

interface BunServer {
  port: number;
  stop(closeActiveConnections?: boolean): void | Promise<void>;
}
interface BunGlobal {
  serve(options: {
    hostname: string;
    port: number;
    fetch: FetchHandler;
    tls?: { cert: string; key: string };
    idleTimeout?: number;
    development?: boolean;
    error?: (error: unknown) => Response;
  }): BunServer;
}

/** The answer to a request whose handler threw: no message, stack or path. */
function internalError(): Response {
  return new Response("Internal Server Error\n", {
    status: 500,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}

/** Serve `handler` with Deno.serve or Bun.serve, whichever runtime this is. */
export async function listen(
  handler: FetchHandler,
  options: ListenOptions = {},
): Promise<Listener> {
  const hostname = options.hostname ?? "127.0.0.1";
  const tls = options.cert && options.key ? { cert: options.cert, key: options.key } : undefined;
  const onError = (error: unknown): Response => {
    try {
      options.onError?.(error);
    } catch { /* the answer stays the same */ }
    return internalError();
  };
  const bun = bunGlobal<BunGlobal>();
  if (bun) {
    const server = bun.serve({
      hostname,
      port: options.port ?? 0,
      fetch: handler,
      tls,
      idleTimeout: 0,
      development: false,
      error: onError,
    });
    return {
      hostname,
      port: server.port,
      close: async () => {
        await server.stop(true);
      },
    };
  }
  const { promise, resolve } = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname,
    port: options.port ?? 0,
    ...(tls ?? {}),
    onListen: (addr) => resolve((addr as Deno.NetAddr).port),
    onError,
  }, handler);
  const port = await promise;
  return {
    hostname,
    port,
    close: async () => {
      await server.shutdown();
    },
  };
}
