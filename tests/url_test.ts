import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { redactUrlCredentials, urlPasswords } from "../src/core/secrets.ts";
import { buildBaseUrl, joinUrl, odataQueryString, odataString } from "../src/act/odata.ts";
import { formatUtc, formatUtcForDisplay } from "../src/core/time.ts";

describe("buildBaseUrl()", () => {
  test("builds the four documented examples exactly", () => {
    const p = "/act.web.api";
    assert.equal(
      buildBaseUrl({ protocol: "http", hostname: "192.168.7.27", port: 8080, api_path: p }),
      "http://192.168.7.27:8080/act.web.api",
    );
    assert.equal(
      buildBaseUrl({ protocol: "http", hostname: "192.168.7.27", port: 80, api_path: p }),
      "http://192.168.7.27/act.web.api",
    );
    assert.equal(
      buildBaseUrl({ protocol: "http", hostname: "192.168.7.27", port: null, api_path: p }),
      "http://192.168.7.27/act.web.api",
    );
    assert.equal(
      buildBaseUrl({ protocol: "https", hostname: "api.act.com", port: 8443, api_path: p }),
      "https://api.act.com:8443/act.web.api",
    );
    assert.equal(
      buildBaseUrl({ protocol: "https", hostname: "api.act.com", port: 443, api_path: p }),
      "https://api.act.com/act.web.api",
    );
    assert.equal(
      buildBaseUrl({ protocol: "https", hostname: "api.act.com", port: null, api_path: p }),
      "https://api.act.com/act.web.api",
    );
  });

  test("keeps a non-default port of the other protocol", () => {
    assert.equal(
      buildBaseUrl({ protocol: "https", hostname: "h", port: 80, api_path: "/act.web.api" }),
      "https://h:80/act.web.api",
    );
  });

  test("puts IPv6 literals in brackets", () => {
    assert.equal(
      buildBaseUrl({ protocol: "http", hostname: "::1", port: 8080, api_path: "/act.web.api" }),
      "http://[::1]:8080/act.web.api",
    );
    assert.equal(
      buildBaseUrl({ protocol: "http", hostname: "[::1]", port: null, api_path: "/act.web.api" }),
      "http://[::1]/act.web.api",
    );
  });

  test("converts non-ASCII host names to punycode", () => {
    assert.equal(
      buildBaseUrl({ protocol: "https", hostname: "bücher.example", port: null, api_path: "/x" }),
      "https://xn--bcher-kva.example/x",
    );
  });

  test("normalises the slashes of api_path", () => {
    assert.equal(
      buildBaseUrl({ protocol: "https", hostname: "h", port: null, api_path: "act.web.api/" }),
      "https://h/act.web.api",
    );
    assert.equal(
      buildBaseUrl({ protocol: "https", hostname: "h", port: null, api_path: "" }),
      "https://h",
    );
  });

  test("rejects an invalid host name", () => {
    assert.throws(
      () => buildBaseUrl({ protocol: "https", hostname: "a b", port: null, api_path: "" }),
      TypeError,
    );
  });
});

describe("odataQueryString()", () => {
  test("returns an empty string when no option is set", () => {
    assert.equal(odataQueryString({}), "");
  });

  test("encodes spaces as %20, '+' as %2B and quotes as %27, keeps $ names", () => {
    const q = odataQueryString({
      filter: "edited ge 2024-01-01T00:00:00+02:00 and name eq 'O''Brien'",
      orderby: "edited asc",
      top: 500,
      skip: 1000,
    });
    assert.equal(
      q,
      "?$filter=edited%20ge%202024-01-01T00:00:00%2B02:00%20and%20name%20eq%20%27O%27%27Brien%27" +
        "&$orderby=edited%20asc&$top=500&$skip=1000",
    );
    assert.ok(!q.includes("+"));
    assert.ok(!q.includes(" "));
  });

  test("round-trips through URLSearchParams", () => {
    const filter = "a/b eq 'x & y' or c lt 2024-01-01T00:00:00.5-05:00";
    const params = new URL(`http://h/p${odataQueryString({ filter, select: "id,name" })}`)
      .searchParams;
    assert.equal(params.get("$filter"), filter);
    assert.equal(params.get("$select"), "id,name");
  });

  test("includes $top=0 and $skip=0", () => {
    assert.equal(odataQueryString({ top: 0, skip: 0 }), "?$top=0&$skip=0");
  });

  test("rejects a negative or fractional $top/$skip", () => {
    assert.throws(() => odataQueryString({ top: -1 }), RangeError);
    assert.throws(() => odataQueryString({ skip: 1.5 }), /'\$skip' must be a non-negative integer/);
  });
});

describe("joinUrl()", () => {
  test("puts exactly one slash between base and path", () => {
    assert.equal(
      joinUrl("http://h/act.web.api/", "/api/contacts"),
      "http://h/act.web.api/api/contacts",
    );
    assert.equal(
      joinUrl("http://h/act.web.api", "api/contacts"),
      "http://h/act.web.api/api/contacts",
    );
  });

  test("appends the query", () => {
    assert.equal(
      joinUrl("http://h/x", "/api/products", { top: 1 }),
      "http://h/x/api/products?$top=1",
    );
    assert.equal(joinUrl("http://h/x", "/api/p?a=1", { top: 1 }), "http://h/x/api/p?a=1&$top=1");
    assert.equal(joinUrl("http://h/x", "/api/p", {}), "http://h/x/api/p");
  });
});

describe("formatUtc()", () => {
  test("formats whole seconds without milliseconds", () => {
    assert.equal(formatUtc(Date.UTC(2024, 0, 1)), "2024-01-01T00:00:00Z");
  });

  test("keeps non-zero milliseconds", () => {
    assert.equal(formatUtc(Date.UTC(2024, 0, 1, 12, 30, 5, 123)), "2024-01-01T12:30:05.123Z");
  });

  test("rejects an invalid time", () => {
    assert.throws(() => formatUtc(Number.NaN), RangeError);
  });

  test("for display: whole seconds and UTC spelt out", () => {
    assert.equal(
      formatUtcForDisplay(Date.UTC(2024, 0, 1, 12, 30, 5, 123)),
      "2024-01-01 12:30:05 UTC",
    );
  });
});

describe("odataString()", () => {
  test("doubles single quotes", () => {
    assert.equal(odataString("O'Brien"), "'O''Brien'");
    assert.equal(odataString(""), "''");
  });
});

describe("redactUrlCredentials()", () => {
  const redactUrl = redactUrlCredentials;
  test("keeps the user of user:password@ and hides the password", () => {
    const out = redactUrl("postgres://sync:s3cret!@db.example:5432/act");
    assert.equal(out, "postgres://sync:***@db.example:5432/act");
    assert.ok(!out.includes("s3cret"));
  });

  test("hides a password holding @, / and : whole, in any text, and finds it for registration", () => {
    const text =
      'bad: "postgres://sync:p@ss/w:rd@db:5432/act" and mysql://u:x@h/db?sslpassword=y&a=1';
    assert.equal(
      redactUrl(text),
      'bad: "postgres://sync:***@db:5432/act" and mysql://u:***@h/db?sslpassword=***&a=1',
    );
    assert.ok(urlPasswords("postgres://sync:p@ss/w:rd@db:5432/act").includes("p@ss/w:rd"));
    assert.deepEqual(urlPasswords("postgres://sync:s3cret@db/act"), ["s3cret"]);
    assert.deepEqual(urlPasswords("postgres://sync@db/act"), []);
  });

  test("hides token-like query parameters and keeps the others as encoded", () => {
    const out = redactUrl(
      "https://h/api/contacts?$filter=edited%20ge%202024-01-01T00:00:00Z&access_token=abc123&$top=5&password=pw1#frag",
    );
    assert.equal(
      out,
      "https://h/api/contacts?$filter=edited%20ge%202024-01-01T00:00:00Z&access_token=***&$top=5&password=***#frag",
    );
  });

  test("leaves a URL without secrets unchanged", () => {
    const url = "https://api.act.com/act.web.api/api/contacts?$top=1";
    assert.equal(redactUrl(url), url);
  });
});
