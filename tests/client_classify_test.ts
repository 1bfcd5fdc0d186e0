// classify(): what one attempt means, decided from the attempt alone (no I/O).
import { test } from "node:test";
import assert from "node:assert/strict";
import { type Attempt, classify } from "../src/act/classify.ts";
import { AccessError, AuthError, HttpError } from "../src/core/errors.ts";

function attempt(status: number, body = "", headers: Record<string, string> = {}): Attempt {
  return {
    status,
    headers: new Headers(headers),
    bytes: new TextEncoder().encode(body),
    text: body,
  };
}

const context = {
  shown: "http://act/api/contacts",
  authorize: false,
  auth: true,
  renewed: false,
  now: Date.UTC(2026, 0, 1),
  parse: (a: Attempt) => JSON.parse(a.text) as unknown,
};

test("classify() gives the value of a 2xx and retries an unusable one", () => {
  assert.deepEqual(classify({ attempt: attempt(200, "[1]") }, context), {
    kind: "value",
    value: [1],
  });
  const parse = () => {
    throw new (class extends Error {})("a programming error");
  };
  assert.throws(
    () => classify({ attempt: attempt(200, "x") }, { ...context, parse }),
    /programming/,
  );
});

test("classify() renews a refused token once, then fails", () => {
  assert.deepEqual(classify({ attempt: attempt(401) }, context), { kind: "renew", status: 401 });
  const verdict = classify({ attempt: attempt(401) }, { ...context, renewed: true });
  assert.equal(verdict.kind, "throw");
  assert.match((verdict as { error: Error }).error.message, /right after renewing the token/);
});

test("classify() retries 503 with its Retry-After date and fails 404 at once", () => {
  const verdict = classify({
    attempt: attempt(503, "busy", {
      "retry-after": "Thu, 01 Jan 2026 00:00:09 GMT",
      date: "Thu, 01 Jan 2026 00:00:00 GMT",
    }),
  }, context);
  assert.deepEqual(verdict, {
    kind: "retry",
    failure: { status: 503, detail: "busy", retryAfter: 9_000 },
  });
  const notFound = classify({ attempt: attempt(404, "gone") }, context);
  assert.ok(notFound.kind === "throw" && notFound.error instanceof HttpError);
});

test("classify() ends on 4031/4032 whatever the status, and refuses a bad login", () => {
  for (const status of [403, 500, 401]) {
    const verdict = classify({ attempt: attempt(status, '{"code":4032}') }, context);
    assert.ok(verdict.kind === "throw" && verdict.error instanceof AccessError, String(status));
  }
  const login = classify({ attempt: attempt(401, "no") }, { ...context, authorize: true });
  assert.ok(login.kind === "throw" && login.error instanceof AuthError);
  assert.ok(!(login.kind === "throw" && login.error instanceof AccessError));
});

test("classify() retries a network error and fails a name that does not resolve", () => {
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
    code: "ECONNREFUSED",
  });
  assert.equal(classify({ error: refused }, context).kind, "retry");
  const dns = Object.assign(new Error("getaddrinfo ENOTFOUND act.invalid"), { code: "ENOTFOUND" });
  const verdict = classify({ error: dns }, context);
  assert.ok(verdict.kind === "throw" && /check 'hostname'/.test(verdict.error.message));
});
