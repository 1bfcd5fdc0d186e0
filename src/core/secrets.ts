/**
 * The one redaction of act-sync: a {@linkcode Secrets} object knows every secret (the Act!
 * password, `username:password` as sent in the Basic header, `http_token`, the PostgreSQL
 * password, and the Act! JWTs the client received) and replaces each of its written forms by
 * `***`. It is applied at every exit: log lines (terminal and file), standard output and error,
 * the state file, `/state`, `/metrics`, the status page and error messages.
 *
 * The forms of a secret `s`: `s` itself, URL-encoded (`%20` and `+` for a space), base64
 * (padded or not, standard or URL alphabet), JSON-escaped (with and without `\u` escapes for
 * non-ASCII), HTML-escaped (`&quot;`, `&#39;`, `&amp;`, `&lt;`, `&gt;`, and `&#34;`/`&#x27;`).
 * A JSON document is safe when both its strings and its serialized text are redacted
 * ({@linkcode Secrets.json}): a secret the server wrote JSON-escaped into an error body is then
 * found again after our own JSON escaping.
 *
 * Also here: {@linkcode escapeControl}, which makes text from the server safe for one log line
 * on a terminal (no ESC sequence, no line break).
 *
 * @example
 * ```ts
 * import { Secrets } from "./secrets.ts";
 * const secrets = new Secrets();
 * secrets.addCredentials("demo", 'Pw"Secr\\et1');
 * console.log(secrets.redact('denied: {"password":"Pw\\"Secr\\\\et1"}')); // denied: {"password":"***"}
 * ```
 *
 * @module
 */
import { errorMessage } from "./errors.ts";

/** What a secret is replaced by. */
export const REDACTED = "***";

/** How many Act! tokens are remembered (the current one and the previous ones). */
const TOKENS_KEPT = 16;

/** Secrets shorter than this are not redacted (they would blank out ordinary words). */
const MIN_LENGTH = 3;

/** The set of secrets and the one function that removes them from text. */
export class Secrets {
  #fixed = new Set<string>();
  #tokens: string[] = [];
  #forms: string[] | null = [];
  #patterns: RegExp[] | null = [];

  /** Secrets known from the start (password, token…); empty and undefined values are ignored. */
  constructor(secrets: Iterable<string | undefined | null> = []) {
    for (const secret of secrets) this.add(secret);
  }

  /** Register a secret that stays for the life of the process (a password, `http_token`). */
  add(secret: string | undefined | null): void {
    if (!secret || secret.length < MIN_LENGTH || this.#fixed.has(secret)) return;
    this.#fixed.add(secret);
    this.#forms = null;
    this.#patterns = null;
  }

  /** Register the Act! credentials: the password and `username:password` (the Basic header). */
  addCredentials(username: string, password: string): void {
    this.add(password);
    if (password) this.add(`${username}:${password}`);
  }

  /** Register an Act! token; the last {@linkcode TOKENS_KEPT} tokens are kept. */
  addToken(token: string | undefined | null): void {
    if (!token || token.length < MIN_LENGTH || this.#tokens.includes(token)) return;
    this.#tokens.push(token);
    if (this.#tokens.length > TOKENS_KEPT) this.#tokens.shift();
    this.#forms = null;
    this.#patterns = null;
  }

  /**
   * Replace every form of every secret in `text` by `***`: the fixed forms, then (when the text
   * holds `%`, `&`, `\\` or `+`) every spelling in which each character is written in any of
   * the usual encodings, in any case and mixed (see {@linkcode spellingPattern}).
   */
  redact(text: string): string {
    if (typeof text !== "string" || !text) return text;
    let out = text;
    for (const form of this.#allForms()) {
      if (out.includes(form)) out = out.replaceAll(form, REDACTED);
    }
    if (!ENCODED.test(out)) return out;
    for (const pattern of this.#allPatterns()) out = out.replace(pattern, REDACTED);
    return out;
  }

  /**
   * `text` redacted, then with its whitespace collapsed and cut to `max` characters (with an
   * ellipsis): the one way to put a piece of text from outside into a message. Redacting first
   * means no piece of a secret survives the cut.
   */
  excerpt(text: string, max: number): string {
    return excerpt(this.redact(text), max);
  }

  /**
   * `JSON.stringify(value, null, indent)` with every string redacted first, then the text
   * itself (so JSON-escaped forms are caught too).
   */
  json(value: unknown, indent?: number): string {
    const text = JSON.stringify(
      value,
      (_key, v) => typeof v === "string" ? this.redact(v) : v,
      indent,
    );
    return this.redact(text ?? "undefined");
  }

  /** The message of an error (or the text of anything else), redacted. */
  message(error: unknown): string {
    return this.redact(errorMessage(error));
  }

  #allForms(): string[] {
    if (this.#forms) return this.#forms;
    const forms = new Set<string>();
    for (const secret of [...this.#fixed, ...this.#tokens]) {
      for (const form of formsOf(secret)) if (form.length >= MIN_LENGTH) forms.add(form);
    }
    // Longest first, so that `user:password` in base64 goes before parts of it.
    this.#forms = [...forms].sort((a, b) => b.length - a.length);
    return this.#forms;
  }

  #allPatterns(): RegExp[] {
    if (this.#patterns) return this.#patterns;
    const secrets = [...this.#fixed, ...this.#tokens].sort((a, b) => b.length - a.length);
    this.#patterns = secrets.map(spellingPattern);
    return this.#patterns;
  }
}

/** Collapse whitespace and cut `text` to `max` characters (with an ellipsis); no redaction. */
export function excerpt(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** Text that may hold an encoded spelling of a secret. */
const ENCODED = /[%&\\+]/;

/** HTML's named entities for the characters they are usually written with. */
const NAMED: Record<string, string[]> = {
  "&": ["amp"],
  "<": ["lt"],
  ">": ["gt"],
  '"': ["quot"],
  "'": ["apos"],
  "€": ["euro"],
  "ß": ["szlig"],
  "ä": ["auml"],
  "ö": ["ouml"],
  "ü": ["uuml"],
  "Ä": ["Auml"],
  "Ö": ["Ouml"],
  "Ü": ["Uuml"],
  "é": ["eacute"],
  "è": ["egrave"],
  "ê": ["ecirc"],
  "á": ["aacute"],
  "à": ["agrave"],
  "â": ["acirc"],
  "ç": ["ccedil"],
  "ñ": ["ntilde"],
  "ó": ["oacute"],
  "ò": ["ograve"],
  "ô": ["ocirc"],
  "í": ["iacute"],
  "ú": ["uacute"],
  "å": ["aring"],
  "ø": ["oslash"],
  "æ": ["aelig"],
  "É": ["Eacute"],
  "§": ["sect"],
  "°": ["deg"],
  "£": ["pound"],
  "©": ["copy"],
};

/** JSON's short escapes. */
const SHORT_ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  "\b": "b",
  "\f": "f",
  "\n": "n",
  "\r": "r",
  "\t": "t",
};

function regexEscape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\\/]/g, "\\$&");
}

/** A hexadecimal number in any case: `e4` → `[eE]4`. */
function anyCaseHex(hex: string): string {
  return hex.replace(/[a-f]/gi, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
}

/**
 * A pattern that finds `secret` with each of its characters written in any of the usual
 * encodings, mixed freely: as is; percent-encoded UTF-8 in any case (`%c3%a4`, `+` and `%20` for a
 * space); an HTML entity (`&#228;`, `&#xE4;`, `&auml;`, `&apos;`, leading zeros allowed); a JSON
 * or JavaScript escape (`\u00E4` in any case, surrogate pairs, `\x41`, `\"`, `\n`), with any
 * number of backslashes (a text escaped twice).
 */
export function spellingPattern(secret: string): RegExp {
  const parts: string[] = [];
  for (const char of secret) {
    const code = char.codePointAt(0)!;
    const ways = new Set<string>([regexEscape(char)]);
    const bytes = [...new TextEncoder().encode(char)];
    ways.add(bytes.map((b) => `%${anyCaseHex(b.toString(16).padStart(2, "0"))}`).join(""));
    if (char === " ") ways.add("\\+");
    ways.add(`&#0*${code};`);
    ways.add(`&#[xX]0*${anyCaseHex(code.toString(16))};`);
    for (const name of NAMED[char] ?? []) ways.add(`&${name};`);
    const units = char.length === 1 ? [code] : [char.charCodeAt(0), char.charCodeAt(1)];
    ways.add(
      units.map((u) => `\\\\+u${anyCaseHex(u.toString(16).padStart(4, "0"))}`).join(""),
    );
    if (code < 0x100) ways.add(`\\\\+x${anyCaseHex(code.toString(16).padStart(2, "0"))}`);
    if (char in SHORT_ESCAPES) ways.add(`\\\\+${regexEscape(SHORT_ESCAPES[char])}`);
    parts.push(`(?:${[...ways].join("|")})`);
  }
  return new RegExp(parts.join(""), "g");
}

/** Every written form of one secret. */
function formsOf(secret: string): string[] {
  const base64 = toBase64(secret);
  const json = JSON.stringify(secret).slice(1, -1);
  const forms = [
    secret,
    encodeURIComponent(secret),
    encodeURIComponent(secret).replaceAll("%20", "+"),
    new URLSearchParams({ s: secret }).toString().slice(2),
    base64,
    base64.replace(/=+$/, ""),
    base64.replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_"),
    json,
    asciiJson(json),
  ];
  for (const form of [...forms]) forms.push(...htmlForms(form));
  return forms;
}

function toBase64(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** JSON escaping with every non-ASCII character as `\uXXXX` (as .NET serializers write it). */
function asciiJson(json: string): string {
  return json.replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** The HTML-escaped spellings of a string (ours and the usual numeric ones). */
function htmlForms(text: string): string[] {
  if (!/[&<>"']/.test(text)) return [];
  const named = text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
  return [
    named.replaceAll('"', "&quot;").replaceAll("'", "&#39;"),
    named.replaceAll('"', "&#34;").replaceAll("'", "&#x27;"),
    named.replaceAll('"', "&quot;").replaceAll("'", "&#x27;"),
  ];
}

/** Query parameters whose value is a credential (matched against the decoded name). */
const SECRET_PARAM =
  /token|password|passwd|pwd|pass|secret|api[-_]?key|^key$|auth|signature|^sig$|jwt|session|credential|bearer/i;

/**
 * `scheme://userinfo@` in text: the userinfo runs up to the last `@` of the word, so that a
 * password holding `/`, `:` or `@` (a URL that is not valid) is taken whole.
 */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^\s"'<>@]*(?:@[^\s"'<>@]*)*)@/gi;

/**
 * The one redaction of credentials in URLs, for a URL or for any text holding URLs: every
 * `scheme://user:password@` becomes `scheme://user:***@` (a password holding `:` or `@` goes
 * whole), and the value of every credential-like query parameter (`password`, `sslpassword`,
 * `access_token`, `api_key`, `secret`, `auth`, `signature`, `jwt`, `session`…) becomes `***`.
 * Everything else is left exactly as written.
 *
 * @example
 * ```ts
 * redactUrlCredentials("postgres://sync:s3cr@t@db:5432/act?sslpassword=x&schema=s");
 * // "postgres://sync:***@db:5432/act?sslpassword=***&schema=s"
 * ```
 */
export function redactUrlCredentials(text: string): string {
  return text
    .replace(USERINFO, (_all, scheme: string, info: string) => {
      const colon = info.indexOf(":");
      return colon < 0 ? `${scheme}${info}@` : `${scheme}${info.slice(0, colon)}:***@`;
    })
    .replace(/([?&])([^=&#\s"'<>?]+)=([^&#\s"'<>]*)/g, (all, sep: string, name: string) => {
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replaceAll("+", " "));
      } catch {
        // keep the raw name
      }
      return SECRET_PARAM.test(decoded.replace(/^\$/, "")) ? `${sep}${name}=***` : all;
    });
}

/**
 * The passwords a `scheme://user:password@host` text may hold, to be registered as secrets: the
 * one a URL parser reads, and the one {@linkcode redactUrlCredentials} hides (up to the last
 * `@`); they differ when the password holds `@` or `/` unencoded.
 */
export function urlPasswords(text: string): string[] {
  const trimmed = text.trim();
  const out = new Set<string>();
  try {
    const url = new URL(trimmed);
    if (url.password) out.add(url.password);
  } catch {
    // not a valid URL: the reading below still applies
  }
  const m = new RegExp(USERINFO.source, "i").exec(trimmed);
  const colon = m && m.index === 0 ? m[2].indexOf(":") : -1;
  if (m && colon >= 0 && m[2].length > colon + 1) out.add(m[2].slice(colon + 1));
  return [...out];
}

// C0 controls, DEL, C1 controls (0x9b is CSI on some terminals), and the Unicode line/paragraph
// separators and bidirectional overrides that reorder what a terminal shows.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_KEPT_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text safe for one log line on a terminal: every control character becomes a visible escape
 * (`\n`, `\r`, `\t`, `\u001b`…). Used for every log line, so that text from the server (an
 * error body, a field name) can neither recolour the terminal nor forge a line.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, escapeOne);
}

/**
 * The same for a JSON text: `JSON.stringify` already escapes C0 controls; this escapes the rest
 * (DEL, C1, separators, bidi overrides) as `\uXXXX`, which keeps the JSON valid and equal.
 */
export function escapeControlInJson(json: string): string {
  return json.replace(CONTROL_KEPT_IN_JSON, escapeOne);
}

function escapeOne(c: string): string {
  switch (c) {
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
    default:
      return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  }
}
