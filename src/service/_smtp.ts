/**
 * A small SMTP client for alerts: EHLO, STARTTLS (node:tls on the open socket) or TLS from the
 * first byte, AUTH PLAIN or LOGIN, MAIL FROM, RCPT TO, DATA, QUIT. One message per connection;
 * a plain-text UTF-8 body in base64, so no line of it can be mistaken for the end of DATA.
 *
 * Written here rather than taken from nodemailer: act-sync ships as one compiled Bun binary and
 * runs under Deno too, and this is the part of nodemailer alerts need (about 200 lines, no
 * dependency to vet for three runtimes).
 *
 * @module
 */
import * as net from "node:net";
import * as tls from "node:tls";
import type { EmailTarget } from "../config/mod.ts";

/** An SMTP reply that was not the one expected; `code` is the server's (0: no reply). */
export class SmtpError extends Error {
  /** The reply code (e.g. 535 when the login was refused). */
  code: number;
  constructor(message: string, code: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "SmtpError";
    this.code = code;
  }

  /** Whether the server refused the user name or password. */
  get authRefused(): boolean {
    return this.code === 535 || this.code === 534;
  }
}

/** One reply: its code and its lines without the code. */
interface Reply {
  code: number;
  lines: string[];
}

/** Options for {@linkcode sendMail}. */
export interface SendMailOptions {
  /** Whole conversation timeout in ms. @default {30000} */
  timeoutMs?: number;
  /** Extra TLS options (tests: a CA). */
  tls?: tls.ConnectionOptions;
  /** The EHLO name. @default {"act-sync"} */
  clientName?: string;
}

/** Reads replies from a socket, one at a time. */
class ReplyReader {
  #buffer = "";
  #pending: Reply[] = [];
  #waiting: ((reply: Reply | Error) => void) | null = null;
  #current: string[] = [];
  #failure: Error | null = null;
  #socket: net.Socket | null = null;
  #onData = (chunk: Buffer | string) => this.#data(String(chunk));
  #onError = (error: Error) => this.#fail(error);
  #onClose = () => this.#fail(new SmtpError("The SMTP server closed the connection", 0));

  attach(socket: net.Socket): void {
    this.detach();
    this.#socket = socket;
    socket.on("data", this.#onData);
    socket.on("error", this.#onError);
    socket.on("close", this.#onClose);
  }

  detach(): void {
    this.#socket?.off("data", this.#onData);
    this.#socket?.off("error", this.#onError);
    this.#socket?.off("close", this.#onClose);
    this.#socket = null;
  }

  read(): Promise<Reply> {
    const next = this.#pending.shift();
    if (next) return Promise.resolve(next);
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiting = (reply) => reply instanceof Error ? reject(reply) : resolve(reply);
    });
  }

  #data(text: string): void {
    this.#buffer += text;
    if (this.#buffer.length > 1_000_000) {
      this.#fail(new SmtpError("The SMTP server sent an over-long reply", 0));
      return;
    }
    let end: number;
    while ((end = this.#buffer.indexOf("\n")) >= 0) {
      const line = this.#buffer.slice(0, end).replace(/\r$/, "");
      this.#buffer = this.#buffer.slice(end + 1);
      this.#current.push(line.slice(4));
      if (line[3] === "-") continue;
      const reply = { code: Number(line.slice(0, 3)) || 0, lines: this.#current };
      this.#current = [];
      const waiting = this.#waiting;
      this.#waiting = null;
      if (waiting) waiting(reply);
      else this.#pending.push(reply);
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting?.(this.#failure);
  }
}

function connectPlain(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.on("error", () => {}); // reported through the reader or the rejection below
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

function connectTls(options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(options);
    socket.on("error", () => {}); // reported through the reader or the rejection below
    socket.once("secureConnect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** `=?UTF-8?B?…?=` for a header holding anything but printable ASCII. */
function header(text: string): string {
  const clean = text.replace(/[\r\n]+/g, " ");
  if (/^[\x20-\x7e]*$/.test(clean)) return clean;
  return `=?UTF-8?B?${Buffer.from(clean, "utf8").toString("base64")}?=`;
}

/** The message as sent after DATA (headers, base64 body, the final dot). */
export function formatMessage(
  target: Pick<EmailTarget, "from" | "to">,
  message: { subject: string; text: string },
  now: Date = new Date(),
): string {
  const body = Buffer.from(message.text.replace(/\r?\n/g, "\r\n"), "utf8").toString("base64")
    .replace(/.{1,76}/g, "$&\r\n");
  return [
    `From: ${target.from}`,
    `To: ${target.to.join(", ")}`,
    `Subject: ${header(message.subject)}`,
    `Date: ${now.toUTCString().replace(/GMT$/, "+0000")}`,
    `Message-ID: <${crypto.randomUUID()}@act-sync>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: base64",
    "",
    body + ".",
    "",
  ].join("\r\n");
}

/**
 * Send one message to `target`. Rejects with an {@linkcode SmtpError} naming the step and the
 * server's reply (never the password) when the server refuses, or a network error.
 */
export async function sendMail(
  target: EmailTarget,
  message: { subject: string; text: string },
  options: SendMailOptions = {},
): Promise<void> {
  const reader = new ReplyReader();
  let socket: net.Socket | null = null;
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SmtpError(`No answer from the SMTP server within ${timeoutMs} ms`, 0)),
      timeoutMs,
    );
  });
  const talk = async () => {
    const tlsOptions = { host: target.host, servername: target.host, ...options.tls };
    socket = target.security === "tls"
      ? await connectTls({ ...tlsOptions, port: target.port })
      : await connectPlain(target.host, target.port);
    reader.attach(socket);
    const expect = async (step: string, codes: number[]): Promise<Reply> => {
      const reply = await reader.read();
      if (!codes.includes(reply.code)) {
        throw new SmtpError(
          `The SMTP server refused ${step}: ${reply.code} ${reply.lines.join(" ").slice(0, 200)}`,
          reply.code,
        );
      }
      return reply;
    };
    const send = (line: string) => socket!.write(line + "\r\n");
    await expect("the connection", [220]);
    const name = options.clientName ?? "act-sync";
    send(`EHLO ${name}`);
    let ehlo = await expect("EHLO", [250]);
    if (target.security === "starttls") {
      if (!ehlo.lines.some((l) => /^STARTTLS\b/i.test(l))) {
        throw new SmtpError(
          `The SMTP server ${target.host} does not offer STARTTLS: use "security": "tls" ` +
            `(port 465) if it speaks TLS from the start`,
          0,
        );
      }
      send("STARTTLS");
      await expect("STARTTLS", [220]);
      reader.detach();
      socket = await connectTls({ ...tlsOptions, socket });
      reader.attach(socket);
      send(`EHLO ${name}`);
      ehlo = await expect("EHLO", [250]);
    }
    if (target.user) {
      const auth = ehlo.lines.find((l) => /^AUTH\b/i.test(l))?.toUpperCase() ?? "";
      if (/\bPLAIN\b/.test(auth) || !/\bLOGIN\b/.test(auth)) {
        const token = Buffer.from(`\0${target.user}\0${target.password}`, "utf8").toString(
          "base64",
        );
        send(`AUTH PLAIN ${token}`);
        await expect("the login", [235]);
      } else {
        send("AUTH LOGIN");
        await expect("AUTH LOGIN", [334]);
        send(Buffer.from(target.user, "utf8").toString("base64"));
        await expect("AUTH LOGIN", [334]);
        send(Buffer.from(target.password, "utf8").toString("base64"));
        await expect("the login", [235]);
      }
    }
    send(`MAIL FROM:<${target.from}>`);
    await expect("MAIL FROM", [250]);
    for (const to of target.to) {
      send(`RCPT TO:<${to}>`);
      await expect(`the recipient "${to}"`, [250, 251]);
    }
    send("DATA");
    await expect("DATA", [354]);
    socket.write(formatMessage(target, message));
    await expect("the message", [250]);
    send("QUIT");
    await reader.read().catch(() => undefined);
  };
  try {
    const conversation = talk();
    conversation.catch(() => {}); // after a timeout, its own failure is no news
    await Promise.race([conversation, timeout]);
  } finally {
    clearTimeout(timer);
    reader.detach();
    (socket as net.Socket | null)?.destroy();
  }
}
