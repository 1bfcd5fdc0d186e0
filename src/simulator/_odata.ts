/**
 * A small but real OData query parser and evaluator, covering what the Act! Web API documents:
 * `$filter` (eq ne gt ge lt le, and/or/not, parentheses, contains/startswith/endswith, `a/b`
 * paths, unquoted ISO-8601 date-times, numbers, 'strings', true/false/null), `$orderby`, `$top`,
 * `$skip`, `$select`. Anything else is a {@linkcode SyntaxError} (the simulator answers 400).
 *
 * String comparisons ignore case, like SQL Server's default collation behind the real API.
 *
 * @module
 */
import { utcMs } from "../core/time.ts";

/** A parsed `$filter` expression. */
export type Expr =
  | { t: "lit"; v: string | number | boolean | null; date?: number }
  | { t: "prop"; path: string[] }
  | { t: "cmp"; op: CmpOp; l: Expr; r: Expr }
  | { t: "and" | "or"; l: Expr; r: Expr }
  | { t: "not"; e: Expr }
  | { t: "fn"; name: FnName; args: [Expr, Expr] };

/** Comparison operators. */
export type CmpOp = "eq" | "ne" | "gt" | "ge" | "lt" | "le";
/** String functions. */
export type FnName = "contains" | "startswith" | "endswith";

/** Resolves a query path (any case) to the record's JSON key path; throws SyntaxError if unknown. */
export type Resolver = (path: string[]) => string[];

/** One `$orderby` key. */
export interface OrderKey {
  path: string[];
  desc: boolean;
}

const OPS = new Set(["eq", "ne", "gt", "ge", "lt", "le"]);
const FNS = new Set(["contains", "startswith", "endswith"]);

type Token =
  | { k: "punct"; v: "(" | ")" | "," }
  | { k: "str"; v: string }
  | { k: "num"; v: number }
  | { k: "date"; v: string; ms: number }
  | { k: "ident"; v: string };

const DATE_RE = /^\d{4}-\d{2}-\d{2}(?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?/;
const FULL_DATE_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Parse an ISO-8601 literal as Act! accepts it (date only, or date-time with Z or offset). */
export function parseDateLiteral(text: string): number {
  const m = FULL_DATE_RE.exec(text);
  if (!m) throw new SyntaxError(`Invalid date-time literal: "${text}"`);
  const ms = utcMs(m[4] === undefined ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(ms)) throw new SyntaxError(`Invalid date-time literal: "${text}"`);
  return ms;
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
    } else if (c === "(" || c === ")" || c === ",") {
      out.push({ k: "punct", v: c });
      i++;
    } else if (c === "'") {
      let v = "";
      i++;
      for (;;) {
        if (i >= src.length) throw new SyntaxError("Unterminated string literal");
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            v += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += src[i++];
      }
      out.push({ k: "str", v });
    } else if (/[0-9-]/.test(c)) {
      const rest = src.slice(i);
      const d = DATE_RE.exec(rest);
      if (d) {
        out.push({ k: "date", v: d[0], ms: parseDateLiteral(d[0]) });
        i += d[0].length;
      } else {
        const n = /^-?\d+(?:\.\d+)?/.exec(rest);
        if (!n) throw new SyntaxError(`Unexpected character at position ${i}: "${c}"`);
        out.push({ k: "num", v: Number(n[0]) });
        i += n[0].length;
      }
      if (i < src.length && /[A-Za-z0-9_']/.test(src[i])) {
        throw new SyntaxError(`Unexpected character at position ${i}: "${src[i]}"`);
      }
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*(?:\/[A-Za-z_][A-Za-z0-9_]*)*/.exec(src.slice(i))!;
      out.push({ k: "ident", v: m[0] });
      i += m[0].length;
    } else {
      throw new SyntaxError(`Unexpected character at position ${i}: "${c}"`);
    }
  }
  return out;
}

/** Parse a `$filter` value; property names are resolved with `resolve`. */
export function parseFilter(src: string, resolve: Resolver): Expr {
  const tokens = tokenize(src);
  let pos = 0;
  const peekIdent = (): string | undefined => {
    const t = tokens[pos];
    return t?.k === "ident" ? t.v.toLowerCase() : undefined;
  };
  const expectPunct = (v: string): void => {
    const t = tokens[pos++];
    if (t?.k !== "punct" || t.v !== v) throw new SyntaxError(`Expected "${v}" in $filter`);
  };
  const primary = (): Expr => {
    const t = tokens[pos++];
    if (!t) throw new SyntaxError("Unexpected end of $filter");
    switch (t.k) {
      case "str":
        return { t: "lit", v: t.v };
      case "num":
        return { t: "lit", v: t.v };
      case "date":
        return { t: "lit", v: t.v, date: t.ms };
      case "punct": {
        if (t.v !== "(") throw new SyntaxError(`Unexpected "${t.v}" in $filter`);
        const e = or();
        expectPunct(")");
        return e;
      }
    }
    const word = t.v.toLowerCase();
    if (word === "true" || word === "false") return { t: "lit", v: word === "true" };
    if (word === "null") return { t: "lit", v: null };
    const next = tokens[pos];
    if (next?.k === "punct" && next.v === "(") {
      if (!FNS.has(word)) throw new SyntaxError(`Unknown function: "${t.v}"`);
      pos++;
      const a = or();
      expectPunct(",");
      const b = or();
      expectPunct(")");
      return { t: "fn", name: word as FnName, args: [a, b] };
    }
    if (next?.k === "str") throw new SyntaxError(`Unsupported literal: "${t.v}'${next.v}'"`);
    if (OPS.has(word) || word === "and" || word === "or" || word === "not") {
      throw new SyntaxError(`Unexpected "${t.v}" in $filter`);
    }
    return { t: "prop", path: resolve(t.v.split("/")) };
  };
  const comparison = (): Expr => {
    const l = primary();
    const op = peekIdent();
    if (op && OPS.has(op)) {
      pos++;
      return { t: "cmp", op: op as CmpOp, l, r: primary() };
    }
    return l;
  };
  const unary = (): Expr => {
    if (peekIdent() === "not") {
      pos++;
      return { t: "not", e: unary() };
    }
    return comparison();
  };
  const and = (): Expr => {
    let l = unary();
    while (peekIdent() === "and") {
      pos++;
      l = { t: "and", l, r: unary() };
    }
    return l;
  };
  const or = (): Expr => {
    let l = and();
    while (peekIdent() === "or") {
      pos++;
      l = { t: "or", l, r: and() };
    }
    return l;
  };
  const expr = or();
  if (pos < tokens.length) throw new SyntaxError(`Unexpected token at the end of $filter`);
  if (expr.t === "lit" && typeof expr.v !== "boolean") {
    throw new SyntaxError("The $filter expression must be a boolean");
  }
  return expr;
}

/** Parse `$orderby`: a comma list of `path [asc|desc]`. */
export function parseOrderBy(src: string, resolve: Resolver): OrderKey[] {
  const keys: OrderKey[] = [];
  for (const part of src.split(",")) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_/]*)(?:\s+(asc|desc))?\s*$/i.exec(part);
    if (!m) throw new SyntaxError(`Invalid $orderby clause: "${part}"`);
    keys.push({ path: resolve(m[1].split("/")), desc: m[2]?.toLowerCase() === "desc" });
  }
  return keys;
}

/** Parse `$select`: a comma list of top-level property names. */
export function parseSelect(src: string, resolve: Resolver): string[] {
  return src.split(",").map((part) => {
    const name = part.trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new SyntaxError(`Invalid $select: "${part}"`);
    return resolve([name])[0];
  });
}

/** A resolver over the keys of a sample record (nested objects give `a/b` paths). */
export function resolverFor(sample: Record<string, unknown>): Resolver {
  return (path) => {
    const out: string[] = [];
    let level: unknown = sample;
    for (const seg of path) {
      if (!level || typeof level !== "object" || Array.isArray(level)) {
        throw new SyntaxError(`Could not find a property named '${path.join("/")}'`);
      }
      const lower = seg.toLowerCase();
      const key = Object.keys(level).find((k) => k.toLowerCase() === lower);
      if (key === undefined) {
        throw new SyntaxError(`Could not find a property named '${path.join("/")}'`);
      }
      out.push(key);
      level = (level as Record<string, unknown>)[key];
    }
    return out;
  };
}

/** The value at a resolved path, or null. */
export function getPath(row: Record<string, unknown>, path: readonly string[]): unknown {
  let v: unknown = row;
  for (const key of path) {
    if (v === null || typeof v !== "object") return null;
    v = (v as Record<string, unknown>)[key];
  }
  return v === undefined ? null : v;
}

/** All property paths an expression reads. */
export function propsOf(e: Expr | null, out: string[][] = []): string[][] {
  if (!e) return out;
  switch (e.t) {
    case "prop":
      out.push(e.path);
      break;
    case "cmp":
    case "and":
    case "or":
      propsOf(e.l, out);
      propsOf(e.r, out);
      break;
    case "not":
      propsOf(e.e, out);
      break;
    case "fn":
      propsOf(e.args[0], out);
      propsOf(e.args[1], out);
      break;
  }
  return out;
}

/** Whether `row` matches the filter. */
export function matches(e: Expr, row: Record<string, unknown>): boolean {
  return evaluate(e, row) === true;
}

function evaluate(e: Expr, row: Record<string, unknown>): unknown {
  switch (e.t) {
    case "lit":
      return e.v;
    case "prop":
      return getPath(row, e.path);
    case "and":
      return evaluate(e.l, row) === true && evaluate(e.r, row) === true;
    case "or":
      return evaluate(e.l, row) === true || evaluate(e.r, row) === true;
    case "not": {
      const v = evaluate(e.e, row);
      return v === null ? null : v !== true;
    }
    case "fn": {
      const a = evaluate(e.args[0], row);
      const b = evaluate(e.args[1], row);
      if (typeof a !== "string" || typeof b !== "string") return a === null ? null : false;
      const x = a.toLowerCase();
      const y = b.toLowerCase();
      return e.name === "contains"
        ? x.includes(y)
        : e.name === "startswith"
        ? x.startsWith(y)
        : x.endsWith(y);
    }
    case "cmp": {
      let a = evaluate(e.l, row);
      let b = evaluate(e.r, row);
      const isDate = (e.l.t === "lit" && e.l.date !== undefined) ||
        (e.r.t === "lit" && e.r.date !== undefined);
      if (a === null || b === null) {
        if (e.op === "eq") return a === b;
        if (e.op === "ne") return a !== b;
        return false;
      }
      if (isDate) {
        a = e.l.t === "lit" && e.l.date !== undefined ? e.l.date : toMs(a);
        b = e.r.t === "lit" && e.r.date !== undefined ? e.r.date : toMs(b);
        if (Number.isNaN(a) || Number.isNaN(b)) return e.op === "ne";
      }
      const c = compareValues(a, b);
      if (Number.isNaN(c)) return e.op === "ne";
      switch (e.op) {
        case "eq":
          return c === 0;
        case "ne":
          return c !== 0;
        case "gt":
          return c > 0;
        case "ge":
          return c >= 0;
        case "lt":
          return c < 0;
        default:
          return c <= 0;
      }
    }
  }
}

/**
 * A row's date-time for `$filter`, read leniently, as a lenient server would: the stored values
 * always carry a zone (`offsetlessDates` drops it only on the way out), so `Date.parse` reads
 * them as UTC, and it rolls an hour 24 over to the next day where act-sync refuses it.
 */
function toMs(v: unknown): number {
  return typeof v === "string" ? Date.parse(v) : NaN;
}

/**
 * Compare two JSON values for sorting and filtering: null first, numbers numerically (a numeric
 * string against a number too), strings ignoring case, false before true; NaN when incomparable.
 */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "number" && typeof b === "string") {
    const n = numeric(b);
    return n === null ? NaN : compareValues(a, n);
  }
  if (typeof a === "string" && typeof b === "number") {
    const n = numeric(a);
    return n === null ? NaN : compareValues(n, b);
  }
  if (typeof a === "string" && typeof b === "string") {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === "boolean" && typeof b === "boolean") return a ? 1 : -1;
  return NaN;
}

function numeric(s: string): number | null {
  const n = s.trim() === "" ? NaN : Number(s);
  return Number.isFinite(n) ? n : null;
}
