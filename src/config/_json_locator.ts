/**
 * What `JSON.parse` does not tell about the config file: where the text first breaks the grammar,
 * as line and column (the runtimes disagree on whether and how they report it), and which keys
 * an object holds more than once (`JSON.parse` keeps the last one without a word).
 *
 * @module
 */

/** A key written more than once in one object. */
export interface DuplicateKey {
  /** The keys leading to it from the top (`["endpoints", "contacts"]`). */
  path: string[];
  /** The 1-based lines of every occurrence, in order; the last one is the value used. */
  lines: number[];
}

/** Locate the first JSON syntax error (runtimes disagree on whether and how they report it). */
export function findJsonError(
  text: string,
): { line: number; column: number; reason: string } | undefined {
  try {
    scan(text, () => {});
    return undefined;
  } catch (error) {
    if (!(error instanceof JsonSyntaxPosition)) throw error;
    const { line, column } = position(text, error.at);
    return { line, column, reason: error.reason };
  }
}

/**
 * The keys written more than once in one object of a JSON text; none when it is not JSON (or
 * nested too deep to walk).
 */
export function findDuplicateKeys(text: string): DuplicateKey[] {
  const seen = new Map<string, { path: string[]; offsets: number[] }>();
  try {
    scan(text, (path, at) => {
      const id = JSON.stringify(path);
      const entry = seen.get(id) ?? { path, offsets: [] };
      entry.offsets.push(at);
      seen.set(id, entry);
    });
  } catch {
    return [];
  }
  return [...seen.values()].filter((entry) => entry.offsets.length > 1).map((entry) => ({
    path: entry.path,
    lines: entry.offsets.map((at) => position(text, at).line),
  }));
}

/** Line and column (1-based) of offset `at`. */
function position(text: string, at: number): { line: number; column: number } {
  const before = text.slice(0, at);
  return {
    line: before.split("\n").length,
    column: at - (before.lastIndexOf("\n") + 1) + 1,
  };
}

/**
 * Walk a JSON text, calling `onKey` with the path of every object key (and the offset of its
 * opening quote); throws a JsonSyntaxPosition at the first break of the grammar. Keys inside an
 * array element are under the array's key and the element's index.
 */
function scan(text: string, onKey: (path: string[], at: number) => void): void {
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
  const value = (path: string[]): void => {
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
        const start = i;
        string();
        const key = [...path, JSON.parse(text.slice(start, i)) as string];
        onKey(key, start);
        ws();
        if (text[i] !== ":") fail(`expected ":" after the key`);
        i++;
        value(key);
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
      for (let index = 0;; index++) {
        ws();
        if (text[i] === "]") fail(`trailing comma before "]"`);
        value([...path, String(index)]);
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
  value([]);
  ws();
  if (i < text.length) fail("unexpected text after the end of the JSON object");
}

class JsonSyntaxPosition {
  constructor(readonly at: number, readonly reason: string) {}
}
