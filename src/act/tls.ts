/**
 * A `fetch` that honours `ca_file` and `tls_verify` on Deno, on Bun and in compiled binaries.
 *
 * - Deno: `Deno.createHttpClient({ caCerts })` passed as `client`; `tls_verify: false` goes through
 *   `node:https` with `rejectUnauthorized: false`, because `Deno.createHttpClient` has no option to
 *   skip verification (only the `--unsafely-ignore-certificate-errors` flag does that).
 * - Bun: `fetch(url, { tls: { ca, rejectUnauthorized } })`; since `ca` replaces Bun's built-in
 *   store, the `node:tls` root certificates are passed along with the extra CA.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { ConfigError, errorMessage } from "../core/errors.ts";
import { denoGlobal, RUNTIME } from "../core/runtime.ts";
import type { Logger } from "../core/log.ts";
import { createNodeFetch } from "./_node_fetch.ts";
import { withConnectTimeout } from "./connection.ts";

/** Options for {@linkcode createFetch}. */
export interface CreateFetchOptions {
  /** PEM file with CA certificates to trust in addition to the system store (`ca_file`). */
  caFile?: string;
  /** Verify the server certificate (`tls_verify`). @default {true} */
  tlsVerify?: boolean;
  /** Where the warning about `tls_verify: false` goes. */
  logger?: Logger;
  /**
   * Time for connecting, apart from the request's timeout (`connect_timeout_seconds`); 0 turns
   * the connect check off (see {@linkcode withConnectTimeout}). @default {0}
   */
  connectTimeoutMs?: number;
}

interface DenoHttp {
  createHttpClient(options: { caCerts?: string[] }): unknown;
}

/** The one PEM rule: a CA file must hold at least one `-----BEGIN CERTIFICATE-----` block. */
export function isPemCertificate(text: string): boolean {
  return text.includes("-----BEGIN CERTIFICATE-----");
}

/**
 * What is wrong with the `ca_file` at `file` (read through `read`), or undefined when it is a
 * readable PEM certificate file. The message names the key and the file.
 */
export function caFileProblem(file: string, read: (path: string) => string): string | undefined {
  let text: string;
  try {
    text = read(file);
  } catch (error) {
    return `'ca_file' cannot be read: current value is ${JSON.stringify(file)}: ${
      errorMessage(error)
    }`;
  }
  if (!isPemCertificate(text)) {
    return `'ca_file' is not a PEM certificate file (no "-----BEGIN CERTIFICATE-----" line): ` +
      `current value is ${JSON.stringify(file)}`;
  }
  return undefined;
}

/**
 * The fetch for the configured TLS options (the global fetch when nothing is configured), with
 * the connect timeout.
 */
export function createFetch(options: CreateFetchOptions = {}): typeof fetch {
  return withConnectTimeout(tlsFetch(options), options.connectTimeoutMs ?? 0);
}

function tlsFetch(options: CreateFetchOptions): typeof fetch {
  const verify = options.tlsVerify !== false;
  let ca: string | undefined;
  if (options.caFile) {
    const file = options.caFile;
    const problem = caFileProblem(file, (path) => ca = readFileSync(path, "utf8"));
    if (problem) throw new ConfigError([problem]);
  }
  if (!verify) {
    options.logger?.warning(
      "WARNING: TLS certificate verification is disabled (tls_verify: false): anyone between " +
        "act-sync and the Act! server can read the password and the data; use ca_file instead",
    );
  }
  if (ca === undefined && verify) return (input, init) => fetch(input, init);
  const deno = denoGlobal<Partial<DenoHttp>>();
  const cas = ca === undefined ? undefined : [...rootCertificates, ca];
  if (RUNTIME === "bun") {
    const tls = { ...(cas ? { ca: cas } : {}), rejectUnauthorized: verify };
    return (input, init) => fetch(input, { ...init, tls } as RequestInit);
  }
  if (verify && ca !== undefined && typeof deno?.createHttpClient === "function") {
    const client = deno.createHttpClient({ caCerts: [ca] });
    return (input, init) => fetch(input, { ...init, client } as RequestInit);
  }
  return createNodeFetch({ ...(cas ? { ca: cas } : {}), rejectUnauthorized: verify });
}
