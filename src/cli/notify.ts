/**
 * `act-sync notify --test`: send a test alert to every `notify` target and report each result
 * (exit 0 all sent, 1 a send failed, 2 no target or an SMTP server refused the login).
 *
 * @module
 */
import { hostname } from "node:os";
import { UsageError } from "../core/errors.ts";
import { alertText } from "../service/alerts.ts";
import { Notifier, smtpOptions } from "../service/notifier.ts";
import { statusPageUrl } from "../service/service.ts";
import { configFromArgs, parseCommand } from "./_flags.ts";
import { type CliDeps, EXIT } from "./command.ts";

/** The flags of `notify`. */
export const NOTIFY_FLAGS = { test: { type: "boolean" } } as const;

/** Send the test alert; the exit code. */
export async function notifyCommand(args: string[], deps: CliDeps): Promise<number> {
  const parsed = parseCommand(args, NOTIFY_FLAGS);
  if (!parsed.values.test) {
    throw new UsageError(`'act-sync notify' needs "--test": it sends a test alert to every target`);
  }
  const { config, logger } = await configFromArgs(parsed, deps, { offline: true });
  if (config.notify.length === 0) {
    logger.severe(`No alert target: 'notify' is empty; see docs/configuration.md`);
    return EXIT.usage;
  }
  const notifier = new Notifier({
    targets: config.notify,
    logger,
    smtp: smtpOptions(config.ca_file),
  });
  const at = new Date().toISOString();
  const results = await notifier.test({
    event: "test",
    subject: "act-sync: test alert",
    text: alertText("test", {
      what: `A test alert from act-sync on ${hostname()} at ${at} (UTC)`,
      statusUrl: statusPageUrl(config.http_host, config.http_port),
    }),
    tables: [],
    at,
  });
  let code: number = EXIT.ok;
  for (const [i, result] of results.entries()) {
    if (result.ok) {
      deps.stdout(`sent    ${result.target}\n`);
      logger.info(`Test alert sent to ${result.target}`);
      continue;
    }
    deps.stdout(`FAILED  ${result.target}: ${result.error}\n`);
    if (result.authRefused) {
      const target = config.notify[i];
      const env = target?.kind === "email" ? target.password_env : undefined;
      logger.severe(
        `Test alert not sent to ${result.target}: the SMTP server refused the login: check ` +
          `'user' and the password in ${env ?? "the 'password_env' variable"}`,
      );
      code = EXIT.usage;
    } else {
      logger.severe(`Test alert not sent to ${result.target}: ${result.error}`);
      if (code === EXIT.ok) code = EXIT.failed;
    }
  }
  return code;
}
