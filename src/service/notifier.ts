/**
 * Sending alerts to the `notify` targets: a webhook POST (JSON, Microsoft Teams or Slack shape)
 * or an e-mail (src/service/_smtp.ts). Sending never blocks or fails a sync: {@linkcode Notifier}
 * delivers in the background, retries a failed send with back-off for a bounded time, logs a
 * WARNING when it gives up, and keeps each target's last result for the status page and
 * `/metrics`. Everything sent passes through the process's one redaction first; the webhook URLs
 * and SMTP passwords are added to it.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { type NotifyTarget, showWebhook, webhookTokens } from "../config/mod.ts";
import type { Alert } from "./alerts.ts";
import type { AlertTargetStatus } from "./monitor.ts";
import { sendMail, type SendMailOptions, SmtpError } from "./_smtp.ts";

export type { AlertTargetStatus };

/** The result of one send of `act-sync notify --test`. */
export interface TestResult {
  target: string;
  ok: boolean;
  error?: string;
  /** The SMTP server refused the user name or password. */
  authRefused?: boolean;
}

/** Options for {@linkcode Notifier}. */
export interface NotifierOptions {
  targets: readonly NotifyTarget[];
  logger: Logger;
  /** HTTP for webhooks. @default {globalThis.fetch} */
  fetch?: typeof fetch;
  /** How long a failed alert is retried, in ms. @default {300000} (5 minutes) */
  retryForMs?: number;
  /** The first retry's delay in ms, doubled each time up to a minute. @default {2000} */
  retryDelayMs?: number;
  /** Timeout of one attempt in ms. @default {15000} */
  attemptTimeoutMs?: number;
  /** How long stopping the service waits for sends in progress, in ms. @default {5000} */
  closeWaitMs?: number;
  /** SMTP extras (tests: a CA). */
  smtp?: SendMailOptions;
  /** Host clock in ms. @default {Date.now} */
  now?: () => number;
}

/**
 * The SMTP client's TLS options: the system's CAs, plus `ca_file` when set (a company CA often
 * signs the mail server's certificate as well as the Act! server's).
 */
export function smtpOptions(caFile: string | undefined): SendMailOptions {
  if (!caFile) return {};
  return { tls: { ca: [...rootCertificates, readFileSync(caFile, "utf8")] } };
}

/** How a target is shown: never its URL's path or query, never a password. */
export function describeTarget(target: NotifyTarget): string {
  return target.kind === "webhook"
    ? `webhook ${showWebhook(target.url)} (${target.format})`
    : `email ${target.to.join(", ")} via ${target.host}:${target.port}`;
}

/** The webhook body in the target's format. */
export function webhookBody(format: "json" | "teams" | "slack", alert: Alert): unknown {
  if (format === "slack") return { text: `*${alert.subject}*\n${alert.text}` };
  if (format === "teams") {
    return {
      "@type": "MessageCard",
      "@context": "https://schema.org/extensions",
      summary: alert.subject,
      title: alert.subject,
      text: alert.text.split("\n").join("\n\n"),
    };
  }
  return {
    event: alert.event,
    subject: alert.subject,
    text: alert.text,
    tables: alert.tables,
    at: alert.at,
    ...(alert.run ? { run: alert.run } : {}),
  };
}

/** Delivers alerts in the background, with bounded retries. */
export class Notifier {
  #options: NotifierOptions;
  #status: AlertTargetStatus[];
  #pending = new Set<Promise<void>>();
  #stop = new AbortController();

  constructor(options: NotifierOptions) {
    this.#options = options;
    for (const target of options.targets) {
      if (target.kind === "webhook") {
        options.logger.addSecret(target.url);
        for (const token of webhookTokens(new URL(target.url))) options.logger.addSecret(token);
      } else options.logger.addSecret(target.password || undefined);
    }
    this.#status = options.targets.map((target) => ({
      target: describeTarget(target),
      kind: target.kind,
      last_at: null,
      last_result: null,
      last_error: null,
      last_subject: null,
      sent: 0,
      failed: 0,
    }));
  }

  /** Each target's last result. */
  status(): AlertTargetStatus[] {
    return this.#status.map((s) => ({ ...s }));
  }

  /** Send `alert` to every target in the background; returns at once. */
  notify(alert: Alert): void {
    this.#options.targets.forEach((target, i) => {
      const job = this.#deliver(target, i, alert).finally(() => this.#pending.delete(job));
      this.#pending.add(job);
    });
  }

  /** Send a test alert to every target once (no retry); each target's result. */
  async test(alert: Alert): Promise<TestResult[]> {
    return await Promise.all(this.#options.targets.map(async (target, i) => {
      try {
        await this.#send(target, alert);
        this.#record(i, alert, null);
        return { target: describeTarget(target), ok: true };
      } catch (error) {
        const message = this.#message(error);
        this.#record(i, alert, message);
        return {
          target: describeTarget(target),
          ok: false,
          error: message,
          ...(error instanceof SmtpError && error.authRefused ? { authRefused: true } : {}),
        };
      }
    }));
  }

  /**
   * Wait for the sends in progress, at most `closeWaitMs`, then give them up (each gets its
   * WARNING).
   */
  async close(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...this.#pending]),
      new Promise((resolve) => timer = setTimeout(resolve, this.#options.closeWaitMs ?? 5000)),
    ]);
    clearTimeout(timer);
    this.#stop.abort();
    await Promise.allSettled([...this.#pending]);
  }

  async #deliver(target: NotifyTarget, index: number, alert: Alert): Promise<void> {
    const now = this.#options.now ?? Date.now;
    const retryFor = this.#options.retryForMs ?? 300_000;
    let delay = this.#options.retryDelayMs ?? 2000;
    const started = now();
    for (let attempt = 1; attempt <= 100; attempt++) {
      try {
        await this.#send(target, alert);
        this.#record(index, alert, null);
        if (attempt > 1) {
          this.#options.logger.info(`Alert sent to ${describeTarget(target)}`, { attempt });
        }
        return;
      } catch (error) {
        const message = this.#message(error);
        const refused = error instanceof SmtpError && error.authRefused;
        if (refused || now() - started + delay > retryFor || this.#stop.signal.aborted) {
          this.#record(index, alert, message);
          this.#options.logger.warning(
            `Cannot send the alert "${alert.subject}" to ${describeTarget(target)}: ${message}`,
            { attempts: attempt },
          );
          return;
        }
        this.#status[index].last_result = "retrying";
        this.#status[index].last_error = message;
        await this.#pause(delay);
        delay = Math.min(delay * 2, 60_000);
      }
    }
  }

  async #send(target: NotifyTarget, alert: Alert): Promise<void> {
    const redact = (text: string) => this.#options.logger.secrets.redact(text);
    const clean: Alert = { ...alert, subject: redact(alert.subject), text: redact(alert.text) };
    const timeoutMs = this.#options.attemptTimeoutMs ?? 15_000;
    if (target.kind === "email") {
      await sendMail(target, clean, { timeoutMs, ...this.#options.smtp });
      return;
    }
    const response = await (this.#options.fetch ?? fetch)(target.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: redact(JSON.stringify(webhookBody(target.format, clean))),
      signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), this.#stop.signal]),
    });
    const text = await response.text().catch(() => "");
    if (!response.ok) {
      throw new Error(`HTTP ${response.status}: ${text.replace(/\s+/g, " ").slice(0, 200)}`);
    }
  }

  /** Sleep `ms`, cut short by close(). */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#stop.signal.addEventListener("abort", done, { once: true });
    });
  }

  #message(error: unknown): string {
    return this.#options.logger.secrets.redact(errorMessage(error));
  }

  #record(index: number, alert: Alert, error: string | null): void {
    const status = this.#status[index];
    status.last_at = new Date((this.#options.now ?? Date.now)()).toISOString();
    status.last_result = error === null ? "sent" : "failed";
    status.last_error = error;
    status.last_subject = alert.subject;
    if (error === null) status.sent++;
    else status.failed++;
  }
}
