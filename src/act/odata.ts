/**
 * Pure URL and OData query building for the Act! Web API: the base URL from the config keys,
 * `$filter`/`$orderby`/`$top`/`$skip` query strings, OData literals, and URLs safe to log.
 *
 * @example
 * ```ts
 * import { buildBaseUrl, joinUrl } from "./odata.ts";
 * const base = buildBaseUrl({ protocol: "https", hostname: "api.act.com", port: null, api_path: "/act.web.api" });
 * joinUrl(base, "/api/contacts", { filter: "edited ge 1970-01-01T00:00:00Z", orderby: "edited asc", top: 100 });
 * // "https://api.act.com/act.web.api/api/contacts?$filter=edited%20ge%201970-01-01T00:00:00Z&$orderby=edited%20asc&$top=100"
 * ```
 *
 * @module
 */

/** The config keys that make up the base URL. */
export interface BaseUrlParts {
  /** `http` or `https`. */
  protocol: string;
  /** Bare host name, IPv4 or IPv6 literal (with or without brackets). */
  hostname: string;
  /** Port, or null for the protocol's default port. */
  port: number | null;
  /** Path of the Web API below the host, e.g. `/act.web.api` ("" for the root). */
  api_path: string;
}

/**
 * Build the Web API base URL without a trailing slash, e.g. `https://api.act.com/act.web.api`.
 * The default port of the protocol is omitted, IPv6 literals get brackets, non-ASCII host names
 * become punycode.
 */
export function buildBaseUrl(c: BaseUrlParts): string {
  const protocol = c.protocol.toLowerCase();
  let host = c.hostname.trim();
  if (host.includes(":") && !host.startsWith("[")) host = `[${host}]`;
  let url: URL;
  try {
    url = new URL(`${protocol}://${host}`);
  } catch (error) {
    throw new TypeError(`Cannot build the base URL: invalid host name "${c.hostname}"`, {
      cause: error,
    });
  }
  if (c.port !== null) url.port = String(c.port);
  let path = c.api_path.trim().replace(/\/+$/, "");
  if (path && !path.startsWith("/")) path = `/${path}`;
  return `${protocol}://${url.host}${path}`;
}

/** OData system query options understood by the Act! Web API. */
export interface OdataQuery {
  /** `$filter`, e.g. `edited ge 2024-01-01T00:00:00Z`. */
  filter?: string;
  /** `$orderby`, e.g. `edited asc`. */
  orderby?: string;
  /** `$top`: page size (a non-negative integer). */
  top?: number;
  /** `$skip`: offset (a non-negative integer). */
  skip?: number;
  /** `$select`: comma-separated property names. */
  select?: string;
}

/**
 * Build `?$filter=…&$orderby=…&$top=…&$skip=…&$select=…` ("" when no option is set). Values are
 * percent-encoded (space → `%20`, `+` → `%2B`, `'` → `%27`); `:` `,` `/` stay readable.
 */
export function odataQueryString(q: OdataQuery): string {
  const parts: string[] = [];
  if (q.filter !== undefined && q.filter !== "") parts.push(`$filter=${encodeValue(q.filter)}`);
  if (q.orderby !== undefined && q.orderby !== "") {
    parts.push(`$orderby=${encodeValue(q.orderby)}`);
  }
  if (q.top !== undefined) parts.push(`$top=${checkCount("top", q.top)}`);
  if (q.skip !== undefined) parts.push(`$skip=${checkCount("skip", q.skip)}`);
  if (q.select !== undefined && q.select !== "") parts.push(`$select=${encodeValue(q.select)}`);
  return parts.length ? `?${parts.join("&")}` : "";
}

/**
 * Join a base URL and a path (one slash between them) and append the OData query. A path that is
 * already an absolute `http(s)` URL is used as is; a path with its own query gets `&` instead of `?`.
 */
export function joinUrl(baseUrl: string, path: string, q?: OdataQuery): string {
  let url = /^https?:\/\//i.test(path)
    ? path
    : path === ""
    ? baseUrl.replace(/\/+$/, "")
    : `${baseUrl.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
  const query = q ? odataQueryString(q) : "";
  if (query) url += url.includes("?") ? `&${query.slice(1)}` : query;
  return url;
}

/** A quoted OData string literal, single quotes doubled: `O'Brien` → `'O''Brien'`. */
export function odataString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function encodeValue(value: string): string {
  return encodeURIComponent(value)
    .replaceAll("'", "%27")
    .replaceAll("%3A", ":")
    .replaceAll("%2C", ",")
    .replaceAll("%2F", "/");
}

function checkCount(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot build the OData query: '$${name}' must be a non-negative integer: current value is "${value}"`,
    );
  }
  return value;
}
