/**
 * The simulator's response bodies (errors as IIS and ASP.NET Web API write them, the odd fields
 * switch) and small request helpers.
 *
 * @module
 */
import { decodeBasic } from "../core/basic.ts";
import type { Row } from "./_data.ts";
import type { DateShape } from "./options.ts";

const LONG_NAME = `customField_${"x".repeat(60)}`;

/**
 * The fields the `oddFields` switch adds to every record: names that collide by case, after
 * flattening, past 63 bytes or with act-sync's own columns, an empty name, a NUL in a name, and
 * numbers and strings that are easy to change by accident (2^53+1, 1e400, beyond int64, a
 * February 30th, a 7-digit .NET fraction).
 */
export function oddFields(id: unknown): Row {
  const raw = (literal: string) => `\u0000raw:${literal}`; // written into the JSON as is
  return {
    Region: `upper ${id}`,
    region: `lower ${id}`,
    "Ärger": `upper ${id}`,
    "ärger": `lower ${id}`,
    zz: { yy: `nested ${id}` },
    zz_yy: `flat ${id}`,
    [`${LONG_NAME}A`]: `long A ${id}`,
    [`${LONG_NAME}B`]: `long B ${id}`,
    ID: `ID ${id}`,
    _act_synced: `synced ${id}`,
    _act_deleted: `deleted ${id}`,
    "": `empty ${id}`,
    "nul\u0000key": `nul ${id}`,
    big: raw("9007199254740993"),
    huge: raw("1e400"),
    beyond: raw("99999999999999999999"),
    badDate: "2023-02-30T00:00:00Z",
    dotnet: "2024-06-01T00:00:03.1234567+00:00",
  };
}

/** Whether a request path (with the base) is a data request: `/api/…` except `/api/system`. */
export function isDataPath(pathname: string, basePath: string): boolean {
  const lower = pathname.toLowerCase().replace(/\/+$/, "");
  return lower.startsWith(basePath + "/api/") && lower !== basePath + "/api/system";
}

export function nonNegative(text: string | null, name: string): number | null {
  if (text === null) return null;
  if (!/^\d{1,9}$/.test(text)) throw new SyntaxError(`Invalid value for ${name}: '${text}'`);
  return Number(text);
}

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

export function notFound(url: URL): Response {
  return json(404, {
    message:
      `No HTTP resource was found that matches the request URI '${url.origin}${url.pathname}'.`,
    messageDetail:
      `No route providing a controller name was found to match request URI '${url.pathname}'`,
  });
}

export function statusFault(status: number, body?: string): Response {
  if (body !== undefined) {
    const isJson = /^\s*[[{]/.test(body);
    return new Response(body, {
      status,
      headers: { "content-type": isJson ? "application/json; charset=utf-8" : "text/html" },
    });
  }
  if (status >= 502 && status <= 504) {
    const title = status === 502
      ? "502 - Web server received an invalid response while acting as a gateway or proxy server."
      : status === 503
      ? "503 Service Unavailable"
      : "504 Gateway Timeout";
    return new Response(
      `<html><head><title>${title}</title></head><body><h1>${title}</h1></body></html>`,
      {
        status,
        headers: { "content-type": "text/html" },
      },
    );
  }
  if (status === 500) {
    return json(500, {
      message: "An error has occurred.",
      exceptionMessage:
        "Execution Timeout Expired. The timeout period elapsed prior to completion of the operation.",
      exceptionType: "System.Data.SqlClient.SqlException",
      stackTrace: "   at System.Data.SqlClient.SqlConnection.OnError(SqlException exception)",
    });
  }
  return json(status, {
    message: status === 403 ? "Access denied." : "The request is invalid.",
    exceptionMessage: `Simulated ${status}`,
    exceptionType: "System.Web.Http.HttpResponseException",
    stackTrace: "",
  });
}

/** The body of {@linkcode SimulatorSwitches.echoCredentials}: everything the request sent. */
export function echoCredentials(request: Request, status: number): Response {
  const auth = request.headers.get("authorization") ?? "";
  const basic = /^Basic\s+(\S+)$/i.exec(auth);
  const credentials = basic ? decodeBasic(basic[1]) : null;
  const password = credentials?.password ?? "";
  const decoded = credentials
    ? `${credentials.username}${credentials.password === null ? "" : `:${password}`}`
    : "";
  const said = `Denied. You sent ${auth}; credentials=${decoded}; password=${password}`;
  if (status === 401) {
    // Plain text, with the password also JSON-escaped as a serializer would write it.
    return new Response(`${said}; as JSON: ${JSON.stringify({ password })}`, {
      status,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  return json(status, {
    message: "An error has occurred.",
    exceptionMessage: `Invalid request header Authorization: ${auth}; ${said}`,
    exceptionType: "System.InvalidOperationException",
    stackTrace: "",
  });
}

export function b64url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function atobUrl(text: string): string {
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/** The body of `/api/system`. */
export const SYSTEM_INFO = {
  apiVersion: "1.1.524.0",
  sdkVersion: "24.1.113.0",
  update: "Act! v24.1 (simulated)",
  culture: {
    name: "en-US",
    displayName: "English (United States)",
    dateFormat: "M/d/yyyy",
    timeFormat: "h:mm tt",
    currencySymbol: "$",
    decimalSeparator: ".",
  },
};

/**
 * The configuration keys that point act-sync at a simulator's base URL (default credentials),
 * with `rate_limit_pause` 0; `extra` keys are merged over them.
 */
export function simulatorConfig(
  baseUrl: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const url = new URL(baseUrl);
  return {
    protocol: url.protocol.replace(":", ""),
    hostname: url.hostname,
    port: url.port,
    api_path: url.pathname,
    username: "demo",
    password: "demo",
    database_name: "ActDemo",
    rate_limit_pause: 0,
    ...extra,
  };
}

/** The `bad-row` fault: `text` (a list answer) with its middle row replaced by invalid JSON. */
export function badRow(text: string): Response {
  const parsed = JSON.parse(text);
  const rows: unknown[] = Array.isArray(parsed) ? parsed : parsed.value ?? [];
  const marker = "\u0000bad-row";
  if (rows.length > 0) rows[Math.floor(rows.length / 2)] = marker;
  return new Response(JSON.stringify(parsed).replace(JSON.stringify(marker), '{"id":x"bad"}'), {
    status: 200,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

/** The body of `/api/system` with its keys spelled as {@linkcode SimulatorSwitches.systemSpelling} says. */
export function systemInfo(spelling: "camel" | "pascal" | "empty"): Response {
  if (spelling === "empty") return json(200, {});
  if (spelling === "camel") return json(200, SYSTEM_INFO);
  const { apiVersion, sdkVersion, update, culture } = SYSTEM_INFO;
  return json(200, {
    APIVersion: apiVersion,
    SDKVersion: sdkVersion,
    Update: update,
    Culture: culture,
  });
}

/**
 * The date-times of a list answer written without an offset, in the shape asked for (`mixed`:
 * each shape in turn).
 */
export function offsetlessDates(text: string, shape: DateShape): string {
  const shapes = ["iso", "space", "lowercase", "long-fraction"] as const;
  let n = 0;
  return text.replace(
    /"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?(?:\+00:00|Z)"/g,
    (_all, date: string, time: string, fraction = "") => {
      const one = shape === "mixed" ? shapes[n++ % shapes.length] : shape;
      switch (one) {
        case "space":
          return `"${date} ${time}${fraction}"`;
        case "lowercase":
          return `"${date}t${time}${fraction}"`;
        case "long-fraction":
          return `"${date}T${time}${(fraction || ".").padEnd(11, "0")}"`;
        default:
          return `"${date}T${time}${fraction}"`;
      }
    },
  );
}

/**
 * A proxy's login page answered with 200: HTML whose script holds `password` starting 190
 * characters in (so that a cut at 200 characters would keep a piece of it), then again
 * percent-encoded in lowercase, as numeric HTML entities, with `&apos;`, and as `\uXXXX` escapes
 * in uppercase.
 */
export function htmlPasswordPage(password: string): Response {
  return new Response(passwordPageText(password), {
    status: 200,
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

function passwordPageText(password: string): string {
  const head = "<!DOCTYPE html><html><head><title>Sign in</title></head><body><p>";
  const open = "</p><script>var saved = '";
  const filler = "Your session has expired; sign in again to continue. ".repeat(4)
    .slice(0, 190 - head.length - open.length);
  const codes = [...password].map((c) => c.codePointAt(0)!);
  const percent = [...new TextEncoder().encode(password)]
    .map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
  const decimal = codes.map((c) => `&#${c};`).join("");
  const hex = codes.map((c) => `&#x${c.toString(16).toUpperCase()};`).join("");
  const named = password.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&apos;");
  const escaped = [...password].map((c) =>
    [...c].map((u) => `\\u${u.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`).join("")
  ).join("");
  return `${head}${filler}${open}${password}';</script>` +
    `<form action="/login?next=%2Fapi&amp;p=${percent}"><input name="password" value="${named}">` +
    `<input name="a" value="${decimal}"><input name="b" value="${hex}"></form>` +
    `<script>var again = "${escaped}";</script></body></html>`;
}

/** An Act! error body with `code` (4031: no subscription, 4032: no API permission). */
export function actErrorBody(code: 4031 | 4032, status: number): Response {
  const message = code === 4031
    ? "The subscription for this database has expired or does not include the Web API."
    : "The user does not have permission to access the Web API.";
  return json(status, { code, message: `Error ${code}: ${message}` });
}
