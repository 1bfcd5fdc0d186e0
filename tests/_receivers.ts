/**
 * Local alert receivers for the tests, on 127.0.0.1: a webhook receiver (node:http) that records
 * every POST or holds it unanswered, and a small SMTP server (node:net: EHLO, AUTH PLAIN/LOGIN,
 * MAIL, RCPT, DATA, QUIT) that records every message with its body decoded.
 *
 * @module
 */
import { createServer as createHttpServer, type ServerResponse } from "node:http";
import { createServer as createNetServer, type Socket } from "node:net";
import { createServer as createTlsServer, TLSSocket } from "node:tls";

/** A webhook POST as received. */
export interface Hook {
  path: string;
  body: string;
}

/** A webhook receiver; `hang` holds every request open until close. */
export async function startWebhookReceiver(options: { hang?: boolean } = {}) {
  const hooks: Hook[] = [];
  const held: ServerResponse[] = [];
  let open = 0;
  const server = createHttpServer((request, response) => {
    let body = "";
    open++;
    request.on("data", (chunk) => body += chunk);
    request.on("end", () => {
      hooks.push({ path: request.url ?? "", body });
      if (options.hang) held.push(response);
      else {
        open--;
        response.writeHead(200, { "content-type": "text/plain" }).end("ok");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    hooks,
    /** Requests received and not answered yet. */
    get open(): number {
      return open;
    },
    async close(): Promise<void> {
      for (const response of held) response.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A message as the SMTP server received it. */
export interface Mail {
  user: string | null;
  from: string;
  to: string[];
  /** Everything after DATA, as sent. */
  data: string;
  subject: string;
  /** The body, base64-decoded. */
  text: string;
  /** Whether the message came over TLS. */
  tls?: boolean;
}

/**
 * An SMTP server on 127.0.0.1 accepting `user` with `password` (AUTH PLAIN or LOGIN); with `tls`,
 * it offers STARTTLS (`mode: "starttls"`) or speaks TLS from the first byte (`mode: "tls"`).
 */
export async function startSmtpServer(options: {
  user: string;
  password: string;
  tls?: { key: string; cert: string; mode: "starttls" | "tls" };
}) {
  const mails: Mail[] = [];
  const sockets = new Set<Socket>();
  const tlsOptions = options.tls;
  const handle = (plain: Socket) => {
    let socket = plain;
    let secure = tlsOptions?.mode === "tls";
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffer = "";
    let user: string | null = null;
    let from = "";
    let to: string[] = [];
    let data: string | null = null;
    let login: "user" | "password" | null = null;
    let loginUser = "";
    const say = (line: string) => socket.write(line + "\r\n");
    const check = (name: string, password: string) => {
      if (name === options.user && password === options.password) {
        user = name;
        say("235 2.7.0 Authentication successful");
      } else say("535 5.7.8 Authentication credentials invalid");
    };
    say("220 localhost ESMTP test");
    const onData = (chunk: Buffer | string) => {
      buffer += chunk;
      for (let guard = 0; guard < 10_000; guard++) {
        if (data !== null) {
          const end = buffer.indexOf("\r\n.\r\n");
          if (end < 0) return;
          data += buffer.slice(0, end + 2);
          buffer = buffer.slice(end + 5);
          mails.push({ ...parseMail(user, from, to, data), tls: secure });
          data = null;
          say("250 2.0.0 Ok: queued");
          continue;
        }
        const end = buffer.indexOf("\r\n");
        if (end < 0) return;
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const verb = line.split(" ")[0].toUpperCase();
        const b64 = (text: string) => Buffer.from(text, "base64").toString("utf8");
        if (login === "user") {
          loginUser = b64(line);
          login = "password";
          say("334 UGFzc3dvcmQ6");
        } else if (login === "password") {
          login = null;
          check(loginUser, b64(line));
        } else if (verb === "STARTTLS" && tlsOptions && !secure) {
          say("220 2.0.0 Ready to start TLS");
          socket.off("data", onData);
          buffer = "";
          secure = true;
          socket = new TLSSocket(socket, {
            isServer: true,
            key: tlsOptions.key,
            cert: tlsOptions.cert,
          });
          socket.on("error", () => {});
          socket.on("data", onData);
          return;
        } else if (verb === "AUTH" && !secure && tlsOptions) {
          say("530 5.7.0 Must issue a STARTTLS command first");
        } else if (verb === "EHLO" || verb === "HELO") {
          say("250-localhost");
          if (tlsOptions && !secure) say("250-STARTTLS");
          say("250-AUTH PLAIN LOGIN");
          say("250 8BITMIME");
        } else if (verb === "AUTH" && line.split(" ")[1]?.toUpperCase() === "PLAIN") {
          const [, name, password] = b64(line.split(" ")[2] ?? "").split("\0");
          check(name ?? "", password ?? "");
        } else if (verb === "AUTH") {
          login = "user";
          say("334 VXNlcm5hbWU6");
        } else if (verb === "MAIL") {
          from = /<(.*)>/.exec(line)?.[1] ?? "";
          to = [];
          say("250 2.1.0 Ok");
        } else if (verb === "RCPT") {
          to.push(/<(.*)>/.exec(line)?.[1] ?? "");
          say("250 2.1.5 Ok");
        } else if (verb === "DATA") {
          data = "";
          say("354 End data with <CR><LF>.<CR><LF>");
        } else if (verb === "QUIT") {
          say("221 2.0.0 Bye");
          socket.end();
        } else say("502 5.5.2 Command not recognized");
      }
    };
    socket.on("data", onData);
  };
  const server = tlsOptions?.mode === "tls"
    ? createTlsServer({ key: tlsOptions.key, cert: tlsOptions.cert }, handle)
    : createNetServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    mails,
    async close(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function parseMail(user: string | null, from: string, to: string[], data: string): Mail {
  const split = data.indexOf("\r\n\r\n");
  const headers = data.slice(0, split).replace(/\r\n[ \t]+/g, " ");
  // DATA doubles a leading dot on every line: undo that first.
  const body = data.slice(split + 4).replace(/\r\n$/, "").replace(/^\.\./gm, ".");
  const subject = /^Subject: (.*)$/im.exec(headers)?.[1]?.trim() ?? "";
  const encoding = /^Content-Transfer-Encoding: *(\S+)/im.exec(headers)?.[1]?.toLowerCase();
  let text = body;
  if (encoding === "base64") {
    text = Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  } else if (encoding === "quoted-printable") {
    const bytes: number[] = [];
    const soft = body.replace(/=\r\n/g, "");
    for (let i = 0; i < soft.length; i++) {
      const hex = soft[i] === "=" ? /^[0-9A-F]{2}$/i.exec(soft.slice(i + 1, i + 3)) : null;
      if (hex) {
        bytes.push(parseInt(hex[0], 16));
        i += 2;
      } else bytes.push(...Buffer.from(soft[i], "utf8"));
    }
    text = Buffer.from(bytes).toString("utf8");
  }
  return { user, from, to: [...to], data, subject, text };
}
