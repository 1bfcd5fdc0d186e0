/**
 * Private: a minimal `fetch` over `node:http`/`node:https`, used where the runtime's own fetch
 * cannot switch off certificate verification (Deno: `Deno.createHttpClient` has no such option).
 *
 * @module
 */
import http from "node:http";
import https from "node:https";

/** TLS settings for {@linkcode createNodeFetch}. */
export interface NodeFetchTls {
  /** Trusted CA certificates (PEM); omitted = Node's default store. */
  ca?: string[];
  /** Verify the server certificate. */
  rejectUnauthorized: boolean;
}

const NO_BODY = new Set([101, 204, 205, 304]);

/** A `fetch` for GET/HEAD-style requests with small bodies, honouring `signal`. */
export function createNodeFetch(tls: NodeFetchTls): typeof fetch {
  const nodeFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const signal = init?.signal ?? undefined;
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const headers: Record<string, string> = {};
      request.headers.forEach((value, key) => headers[key] = value);
      const options = { method: request.method, headers, ...tls };
      const onResponse = (res: http.IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const responseHeaders = new Headers();
        for (const [key, value] of Object.entries(res.headers)) {
          if (Array.isArray(value)) value.forEach((v) => responseHeaders.append(key, v));
          else if (value !== undefined) responseHeaders.set(key, String(value));
        }
        let body: ReadableStream<Uint8Array> | null = null;
        if (!NO_BODY.has(status) && request.method !== "HEAD") {
          body = new ReadableStream<Uint8Array>({
            start(controller) {
              res.on("data", (chunk: Uint8Array) => controller.enqueue(new Uint8Array(chunk)));
              res.on("end", () => controller.close());
              res.on("error", (error) => controller.error(error));
              res.on("aborted", () => controller.error(new TypeError("Response body aborted")));
            },
            cancel() {
              res.destroy();
            },
          });
        } else {
          res.resume();
        }
        resolve(
          new Response(body, {
            status,
            statusText: res.statusMessage ?? "",
            headers: responseHeaders,
          }),
        );
      };
      const req = url.protocol === "https:"
        ? https.request(url, options, onResponse)
        : http.request(url, options, onResponse);
      const onAbort = () => {
        req.destroy(signal?.reason instanceof Error ? signal.reason : new Error("Aborted"));
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      req.on(
        "error",
        (error) => reject(new TypeError(`fetch failed: ${error.message}`, { cause: error })),
      );
      req.on("close", () => signal?.removeEventListener("abort", onAbort));
      req.end();
    });
  };
  return nodeFetch as typeof fetch;
}
