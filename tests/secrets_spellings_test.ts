// Secrets.redact() finds a secret in every usual encoding, in any case and mixed, and
// Secrets.excerpt() redacts before it cuts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Secrets } from "../src/core/secrets.ts";

/** Non-ASCII, `&<>"'`, a space, `+`, `/`, `%` and `\`. */
const PASSWORD = `Zq9Pä &<>"'+/%\\ü€Xw7`;

function percent(text: string, upper: boolean): string {
  return [...new TextEncoder().encode(text)].map((b) => {
    const hex = b.toString(16).padStart(2, "0");
    return `%${upper ? hex.toUpperCase() : hex}`;
  }).join("");
}

function each(text: string, how: (c: string, i: number) => string): string {
  return [...text].map(how).join("");
}

function unicodeEscape(c: string, upper: boolean): string {
  return [...c].map((u) => {
    const hex = u.charCodeAt(0).toString(16).padStart(4, "0");
    return `\\u${upper ? hex.toUpperCase() : hex}`;
  }).join("");
}

const SPELLINGS: Record<string, string> = {
  "percent, lowercase": percent(PASSWORD, false),
  "percent, uppercase": percent(PASSWORD, true),
  "percent, + for the space": encodeURIComponent(PASSWORD).replace("%20", "+")
    .replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
  "decimal entities": each(PASSWORD, (c) => `&#${c.codePointAt(0)};`),
  "decimal entities, leading zeros": each(PASSWORD, (c) => `&#00${c.codePointAt(0)};`),
  "hex entities, uppercase": each(
    PASSWORD,
    (c) => `&#x${c.codePointAt(0)!.toString(16).toUpperCase()};`,
  ),
  "hex entities, &#X": each(PASSWORD, (c) => `&#X${c.codePointAt(0)!.toString(16)};`),
  "named entities with &apos;": PASSWORD.replaceAll("&", "&amp;").replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&apos;")
    .replaceAll("ä", "&auml;").replaceAll("ü", "&uuml;").replaceAll("€", "&euro;"),
  "\\u, uppercase, every character": each(PASSWORD, (c) => unicodeEscape(c, true)),
  "\\u, lowercase, every character": each(PASSWORD, (c) => unicodeEscape(c, false)),
  "JSON, non-ASCII as uppercase \\u": JSON.stringify(PASSWORD).slice(1, -1)
    .replace(/[\u0080-\uffff]/g, (c) => unicodeEscape(c, true)),
  "JSON escaped twice": JSON.stringify(JSON.stringify(PASSWORD).slice(1, -1)).slice(1, -1),
  "mixed, one encoding per character": each(PASSWORD, (c, i) =>
    [
      (x: string) => percent(x, i % 2 === 0),
      (x: string) => `&#${x.codePointAt(0)};`,
      (x: string) => unicodeEscape(x, i % 3 === 0),
      (x: string) => x,
    ][i % 4](c)),
};

for (const [name, spelling] of Object.entries(SPELLINGS)) {
  test(`redact() finds the password spelled as ${name}`, () => {
    const secrets = new Secrets([PASSWORD]);
    assert.equal(secrets.redact(`before ${spelling} after`), "before *** after", spelling);
  });
}

test("redact() leaves text alone that only looks like an encoding", () => {
  const secrets = new Secrets([PASSWORD]);
  const text = "50% of &amp; users say \\u0041 + more";
  assert.equal(secrets.redact(text), text);
});

test("excerpt() redacts the whole text before it cuts, so no piece of a secret is left", () => {
  const secrets = new Secrets([PASSWORD]);
  for (const start of [190, 195, 199]) {
    const text = `${"x".repeat(start)}${PASSWORD} and more text after it`;
    const cut = secrets.excerpt(text, 200);
    assert.ok(!cut.includes("Zq9"), cut);
    assert.match(cut, start === 190 ? /x\*\*\* and/ : /^x+\*+( a)?…?$/);
  }
});
