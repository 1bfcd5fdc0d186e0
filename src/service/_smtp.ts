/**
 * Sending one alert e-mail with nodemailer (no dependencies of its own; checked under Deno, Bun
 * and the compiled Bun binary): STARTTLS (`requireTLS`: never in the clear), TLS from the first
 * byte, or plain only to a relay on this machine; AUTH when a user is set. Its errors become an
 * {@linkcode SmtpError} whose `authRefused` tells a refused login (not worth retrying) apart.
 *
 * @module
 */
import type { ConnectionOptions } from "node:tls";
import nodemailer from "nodemailer";
import type { EmailTarget } from "../config/mod.ts";

/** An SMTP failure; `code` is the server's reply code (0: none, e.g. no connection). */
export class SmtpError extends Error {
  /** The reply code (e.g. 535 when the login was refused). */
  code: number;
  /** Whether the server refused the user name or password. */
  authRefused: boolean;
  constructor(message: string, code: number, authRefused: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = "SmtpError";
    this.code = code;
    this.authRefused = authRefused;
  }
}

/** Options for {@linkcode sendMail}. */
export interface SendMailOptions {
  /** Timeout of the connection and of each reply, in ms. @default {30000} */
  timeoutMs?: number;
  /** Extra TLS options (a CA). */
  tls?: ConnectionOptions;
  /** The EHLO name. @default {"act-sync"} */
  clientName?: string;
}

/**
 * Send one plain-text UTF-8 message to `target`. Rejects with an {@linkcode SmtpError} naming
 * what failed and the server's reply (never the password).
 */
export async function sendMail(
  target: EmailTarget,
  message: { subject: string; text: string },
  options: SendMailOptions = {},
): Promise<void> {
  const timeout = options.timeoutMs ?? 30_000;
  const transport = nodemailer.createTransport({
    host: target.host,
    port: target.port,
    secure: target.security === "tls",
    requireTLS: target.security === "starttls",
    ignoreTLS: target.security === "none",
    ...(target.user ? { auth: { user: target.user, pass: target.password } } : {}),
    tls: { servername: target.host, ...options.tls },
    name: options.clientName ?? "act-sync",
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    logger: false,
  });
  try {
    await transport.sendMail({
      from: target.from,
      to: target.to,
      subject: message.subject,
      text: message.text,
    });
  } catch (error) {
    const e = error as { code?: string; responseCode?: number; message?: string };
    const code = typeof e.responseCode === "number" ? e.responseCode : 0;
    const refused = e.code === "EAUTH";
    const what = refused ? "The SMTP server refused the login" : "Cannot send the e-mail";
    throw new SmtpError(`${what}: ${e.message ?? String(error)}`, code, refused, { cause: error });
  } finally {
    transport.close();
  }
}
