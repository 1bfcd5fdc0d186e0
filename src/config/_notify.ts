/**
 * The alert keys of the schema: `notify` (where alerts go: webhooks and e-mail) and `notify_on`
 * (which events send one). A webhook URL carries its token and an SMTP password is a password:
 * neither is ever echoed in a message, and {@linkcode notifySecrets} hands both to the one
 * redaction before anything is validated.
 *
 * @module
 */
import * as v from "valibot";

/** The events an alert can be sent for, in the order the docs list them. */
export const NOTIFY_EVENTS = [
  "failure",
  "recovery",
  "mass_delete_guard",
  "rejected_records",
  "schema_change",
  "stale",
] as const;

/** One event an alert can be sent for. */
export type NotifyEvent = typeof NOTIFY_EVENTS[number];

/** A webhook target: a JSON POST in the chosen shape. */
export interface WebhookTarget {
  kind: "webhook";
  /** The full URL (a secret: it usually carries a token). */
  url: string;
  format: "json" | "teams" | "slack";
}

/** An e-mail target sent through an SMTP server. */
export interface EmailTarget {
  kind: "email";
  host: string;
  port: number;
  /** `starttls` (port 587), `tls` (port 465), or `none` (a relay on this machine only). */
  security: "starttls" | "tls" | "none";
  /** SMTP user; none: no AUTH. */
  user?: string;
  /** The environment variable holding the password (`ACT_…`). */
  password_env?: string;
  /** The password, read from `password_env` by the loader; "" when none. */
  password: string;
  from: string;
  to: string[];
}

/** One alert target. */
export type NotifyTarget = WebhookTarget | EmailTarget;

const FORMATS = ["json", "teams", "slack"] as const;
const SECURITY = ["starttls", "tls", "none"] as const;
const EXAMPLE = `[{"url": "https://hooks.example.com/...", "format": "teams"}, ` +
  `{"smtp_host": "mail.example.com", "smtp_port": 587, "security": "starttls", ` +
  `"user": "act-sync@example.com", "password_env": "ACT_SMTP_PASSWORD", ` +
  `"from": "act-sync@example.com", "to": ["it@example.com"]}]`;

/** Whether `host` names this machine only (plain `http://` and `security: "none"` allowed). */
function loopback(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return name === "localhost" || name === "::1" || /^127\.\d+\.\d+\.\d+$/.test(name);
}

function asList(input: unknown): unknown {
  if (typeof input !== "string") return input;
  try {
    return JSON.parse(input);
  } catch {
    return undefined;
  }
}

const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;

/** One target, or its problem (the URL and password never shown). */
function parseTarget(item: unknown, at: string): NotifyTarget | string {
  if (!item || typeof item !== "object" || Array.isArray(item)) {
    return `'${at}' must be an object with "url" (a webhook) or "smtp_host" (e-mail)`;
  }
  const t = item as Record<string, unknown>;
  if (t.url !== undefined) {
    let url: URL;
    try {
      url = new URL(String(t.url).trim());
    } catch {
      return `'${at}.url' is not a valid URL (value not shown: a webhook URL is a secret)`;
    }
    const https = url.protocol === "https:";
    if (!https && !(url.protocol === "http:" && loopback(url.hostname))) {
      return `'${at}.url' must start with https:// (http:// only to this machine; ` +
        `value not shown: a webhook URL is a secret)`;
    }
    const format = String(t.format ?? "json").trim().toLowerCase();
    if (!(FORMATS as readonly string[]).includes(format)) {
      return `'${at}.format' must be one of "json", "teams", "slack": current value is ${
        JSON.stringify(String(t.format))
      }`;
    }
    return { kind: "webhook", url: url.href, format: format as WebhookTarget["format"] };
  }
  if (t.smtp_host === undefined) {
    return `'${at}' must have "url" (a webhook) or "smtp_host" (e-mail): e.g. ${EXAMPLE}`;
  }
  const host = String(t.smtp_host).trim();
  if (!host || /[\s/:@]/.test(host) && !host.includes("::")) {
    return `'${at}.smtp_host' must be a bare host name: current value is ${JSON.stringify(host)}`;
  }
  const security = String(t.security ?? "starttls").trim().toLowerCase();
  if (!(SECURITY as readonly string[]).includes(security)) {
    return `'${at}.security' must be one of "starttls", "tls", "none": current value is ${
      JSON.stringify(String(t.security))
    }`;
  }
  if (security === "none" && !loopback(host)) {
    return `'${at}.security' may be "none" only for a relay on this machine (127.0.0.1): ` +
      `use "starttls" or "tls" for ${JSON.stringify(host)}`;
  }
  const port = Number(t.smtp_port ?? (security === "tls" ? 465 : 587));
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return `'${at}.smtp_port' must be between 1 and 65535: current value is ${
      JSON.stringify(String(t.smtp_port))
    }`;
  }
  const user = t.user === undefined || t.user === "" ? undefined : String(t.user).trim();
  const passwordEnv = t.password_env === undefined ? undefined : String(t.password_env).trim();
  if (passwordEnv !== undefined && !/^ACT_[A-Z0-9_]+$/.test(passwordEnv)) {
    return `'${at}.password_env' must name an environment variable starting with ACT_ ` +
      `(e.g. "ACT_SMTP_PASSWORD"): current value is ${JSON.stringify(passwordEnv)}`;
  }
  if (user && !passwordEnv) {
    return `'${at}.password_env' is missing: name the environment variable that holds the ` +
      `SMTP password of ${JSON.stringify(user)} (e.g. "ACT_SMTP_PASSWORD"); the password ` +
      `itself is never written in the config file`;
  }
  const from = String(t.from ?? "").trim();
  if (!EMAIL.test(from)) {
    return `'${at}.from' must be an e-mail address: current value is ${JSON.stringify(from)}`;
  }
  const to = (Array.isArray(t.to) ? t.to : String(t.to ?? "").split(/[\s,;]+/))
    .map((x) => String(x).trim()).filter(Boolean);
  const bad = to.find((x) => !EMAIL.test(x));
  if (to.length === 0 || bad !== undefined) {
    return `'${at}.to' must be a list of e-mail addresses: current value is ${
      JSON.stringify(bad ?? "")
    }`;
  }
  return {
    kind: "email",
    host,
    port,
    security: security as EmailTarget["security"],
    ...(user ? { user } : {}),
    ...(passwordEnv ? { password_env: passwordEnv } : {}),
    password: "",
    from,
    to,
  };
}

function parseTargets(input: unknown): NotifyTarget[] | string {
  const list = asList(input);
  if (!Array.isArray(list)) {
    return `'notify' must be a JSON list of alert targets like ${EXAMPLE}`;
  }
  const out: NotifyTarget[] = [];
  const errors: string[] = [];
  list.forEach((item, i) => {
    const parsed = parseTarget(item, `notify[${i}]`);
    if (typeof parsed === "string") errors.push(parsed);
    else out.push(parsed);
  });
  return errors.length ? errors.join("\n  - ") : out;
}

/** `notify`: a list of webhook and e-mail targets. */
export const notifyKey = v.optional(
  v.pipe(
    v.unknown(),
    v.check(
      (input) => typeof parseTargets(input) !== "string",
      (issue) => parseTargets(issue.input) as string,
    ),
    v.transform((input) => parseTargets(input) as NotifyTarget[]),
  ),
  () => [],
);

function parseEvents(input: unknown): NotifyEvent[] | string {
  const list = Array.isArray(input)
    ? input
    : typeof input === "string"
    ? input.replace(/^\s*\[|\]\s*$/g, "").split(/[\s,;"]+/).filter(Boolean)
    : undefined;
  const valid = NOTIFY_EVENTS.map((e) => `"${e}"`).join(", ");
  if (!list) return `'notify_on' must be a list of events among ${valid}`;
  const bad = list.find((e) => !(NOTIFY_EVENTS as readonly unknown[]).includes(e));
  if (bad !== undefined) {
    return `'notify_on' contains an unknown event ${
      JSON.stringify(bad)
    }: valid events are ${valid}`;
  }
  return NOTIFY_EVENTS.filter((e) => list.includes(e));
}

/** `notify_on`: the events that send an alert (every one by default). */
export const notifyOnKey = v.optional(
  v.pipe(
    v.unknown(),
    v.check(
      (input) => typeof parseEvents(input) !== "string",
      (issue) => parseEvents(issue.input) as string,
    ),
    v.transform((input) => parseEvents(input) as NotifyEvent[]),
  ),
  () => [...NOTIFY_EVENTS],
);

/** The webhook URLs found in a raw `notify` value, whatever its shape (for the redaction). */
export function notifySecrets(raw: unknown): string[] {
  const list = asList(raw);
  if (!Array.isArray(list)) return typeof raw === "string" && raw.includes("://") ? [raw] : [];
  const out: string[] = [];
  for (const item of list) {
    const url = (item as Record<string, unknown> | null)?.url;
    if (typeof url !== "string" || !url.trim()) continue;
    out.push(url, url.trim());
    try {
      const parsed = new URL(url.trim());
      out.push(parsed.href, ...webhookTokens(parsed));
    } catch {
      // Not a URL: the schema says so, without the value.
    }
  }
  return out;
}

/**
 * The parts of a webhook URL that carry its token, each redacted on its own too: the path with
 * its query, and every path segment or query value of 12 characters or more.
 */
export function webhookTokens(url: URL): string[] {
  const out = url.pathname.length > 1 ? [url.pathname + url.search] : [];
  const parts = [...url.pathname.split("/"), ...[...url.searchParams.values()]];
  for (const part of parts) {
    if (part.length >= 12) out.push(part, decodeURIComponentSafe(part));
  }
  return out;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A webhook URL safe to show: scheme and host only. */
export function showWebhook(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}/***`;
  } catch {
    return "***";
  }
}

/** Fill each e-mail target's password from its `password_env`; the problems, if any. */
export function resolveNotifyPasswords(
  targets: NotifyTarget[],
  env: Record<string, string | undefined>,
): string[] {
  const problems: string[] = [];
  targets.forEach((target, i) => {
    if (target.kind !== "email" || !target.password_env) return;
    const value = env[target.password_env];
    if (value === undefined || value === "") {
      problems.push(
        `'notify[${i}].password_env' names ${target.password_env}, which is not set: set it to ` +
          `the SMTP password of ${JSON.stringify(target.user ?? "")}`,
      );
    } else target.password = value;
  });
  return problems;
}
