/**
 * Where a JSON text first breaks the grammar, as line and column: the runtimes disagree on
 * whether and how `JSON.parse` reports it, so the config loader finds it itself.
 *
 * @module
 */

/** Locate the first JSON syntax error (runtimes disagree on whether and how they report it). */
export function findJsonError(
  text: string,
): { line: number; column: number; reason: string } | undefined {
  let i = 0;
  const fail = (reason: string, at = i): never => {
    throw new JsonSyntaxPosition(at, reason);
  };
  const ws = () => {
    while (i < text.length && /[ \t\r\n]/.test(text[i])) i++;
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const c = text[i];
      if (c === '"') {
        i++;
        return;
      }
      if (c === "\\") {
        const e = text[i + 1];
        if (e === "u" && /^[0-9a-f]{4}$/i.test(text.slice(i + 2, i + 6))) i += 6;
        else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else {
          fail(
            `invalid escape "\\${
              e ?? ""
            }" in a string: write a backslash as \\\\ (C:\\\\data\\\\act.db) or use /`,
          );
        }
        continue;
      }
      if (c < " ") fail("line break or control character inside a string (missing closing quote?)");
      i++;
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] === "}") fail(`trailing comma before "}"`);
        if (text[i] !== '"') {
          fail(text[i] === "'" ? "keys must use double quotes" : "expected a key in double quotes");
        }
        string();
        ws();
        if (text[i] !== ":") fail(`expected ":" after the key`);
        i++;
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        fail(
          i >= text.length
            ? 'unexpected end of file (missing "}"?)'
            : `expected "," or "}" (missing comma?)`,
        );
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] === "]") fail(`trailing comma before "]"`);
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        fail(
          i >= text.length
            ? 'unexpected end of file (missing "]"?)'
            : `expected "," or "]" (missing comma?)`,
        );
      }
    }
    if (c === '"') return string();
    for (const literal of ["true", "false", "null"]) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    const number = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    number.lastIndex = i;
    if (c !== undefined && /[-\d]/.test(c) && number.test(text)) {
      i = number.lastIndex;
      return;
    }
    if (c === undefined) fail("unexpected end of file");
    if (c === "'") fail("strings must use double quotes");
    if (c === "/") fail("comments are not allowed in JSON");
    fail(`unexpected character ${JSON.stringify(c)}`);
  };
  try {
    value();
    ws();
    if (i < text.length) fail("unexpected text after the end of the JSON object");
    return undefined;
  } catch (error) {
    if (!(error instanceof JsonSyntaxPosition)) throw error;
    const { at, reason } = error;
    const before = text.slice(0, at);
    const line = before.split("\n").length;
    const column = at - (before.lastIndexOf("\n") + 1) + 1;
    return { line, column, reason };
  }
}

class JsonSyntaxPosition {
  constructor(readonly at: number, readonly reason: string) {}
}
