/**
 * argv → command: {@linkcode runCli} prints the usage text, dispatches to one file per command and
 * is the only place that decides the exit code (commands return whether they succeeded, or throw).
 *
 * @module
 */
import { COMMIT, VERSION } from "../core/version.ts";
import { ConfigError, errorMessage, LockError, UsageError } from "../core/errors.ts";
import { escapeControl, Secrets } from "../core/secrets.ts";
import { parseCommand } from "./_flags.ts";
import { sharedTerminal } from "../jobs/progress.ts";
import { COMMAND_HELP } from "./help.ts";
import { type CliDeps, EXIT } from "./command.ts";
import { closest } from "../core/closest.ts";
import { logConfigError } from "./_config_log.ts";

/** Usage text for `--help`. */
export const USAGE =
  `act-sync ${VERSION}: copy Act! CRM data into SQLite or PostgreSQL, incrementally

Usage:
  act-sync --once [options]        sync every configured table once, then exit
  act-sync [options]               service mode: sync on the schedule, serve /health /state /metrics
  act-sync check [options]         authenticate and probe each table's endpoint
  act-sync state [options]         print the state file
  act-sync reset [TABLE...]        forget cursors so the next run re-reads those tables
  act-sync reconcile [TABLE...]    mark rows deleted in Act! and fetch rows missing locally
  act-sync stop [options]          ask the running service to finish its page and exit
  act-sync notify --test           send a test alert to every 'notify' target
  act-sync scrub [options]         remove or hash stored values of exclude_fields, hash_fields
  act-sync backup FILE [options]   write a read-only snapshot of the SQLite database to FILE
  act-sync demo                    sync the built-in simulator into demo/act.db
  act-sync simulate [--port N] [--records N] [--seed S] [--username U] [--password P]
                    [--database D] [switches]   run the Act! Web API simulator on 127.0.0.1

Options:
  -c, --config FILE      configuration file (default: configuration.json in the current folder,
                         else next to the executable, or env ACT_SYNC_CONFIG)
  --state FILE           state file (config key state_file)
  --destination URL      sqlite:FILE or postgres://... (config key destination)
  --tables a,b           tables to sync (config key tables)
  --full-refresh         ignore cursors and re-read everything
  --log-level LEVEL      INFO | FINE | WARNING | SEVERE
  -q, --quiet            warnings and errors only · -v, --verbose  details (FINE)
  --log-format FORMAT    text | json
  --http-host HOST       service mode: interface to bind (default 127.0.0.1)
  --http-port N          service mode: port (default 8787)
  -h, --help             show this help ('act-sync COMMAND --help': that command's flags)
  -V, --version          show the version

Time zones: 'schedule' and 'reconcile_schedule' (service mode) are cron patterns in this
machine's local time; every time act-sync shows (log, state, /health, status page) is UTC.

Exit codes: 0 every table synced, 1 the sync failed, 2 configuration or usage error,
3 another act-sync run holds the lock on the state file, 4 Act! refused the login.
`;

/** Run the CLI; returns the exit code. */
export async function runCli(outside: CliDeps): Promise<number> {
  // Every byte printed goes through the one redaction, whichever command prints it.
  const secrets = outside.secrets ?? new Secrets();
  // On a terminal, the progress line and log lines share stderr: a log line clears the
  // progress line and it is redrawn below (files and pipes get the lines as they are).
  const stderr = outside.isTty ? sharedTerminal(outside.stderr) : outside.stderr;
  const deps: CliDeps = {
    ...outside,
    secrets,
    stdout: (text) => outside.stdout(secrets.redact(text)),
    stderr: (text) => stderr(secrets.redact(text)),
  };
  const [first, ...rest] = deps.args;
  const command = first && !first.startsWith("-") ? first : "";
  const args = command ? rest : deps.args;
  try {
    const handler = COMMANDS[command];
    if (command === "help") {
      const topic = rest[0] ?? "";
      deps.stdout(topic && COMMAND_HELP[topic] ? COMMAND_HELP[topic] : USAGE);
      return EXIT.ok;
    }
    if (deps.args.includes("--help") || deps.args.includes("-h")) {
      deps.stdout(command && COMMAND_HELP[command] ? COMMAND_HELP[command] : USAGE);
      return EXIT.ok;
    }
    if (deps.args.includes("--version") || deps.args.includes("-V") || command === "version") {
      deps.stdout(`act-sync ${VERSION}${COMMIT ? ` (${COMMIT})` : ""}\n`);
      return EXIT.ok;
    }
    if (!handler) {
      const guess = closest(command, Object.keys(COMMANDS).filter(Boolean));
      throw new UsageError(
        `Unknown command: "${command}"${guess ? `: did you mean "${guess}"?` : ""}`,
      );
    }
    const outcome = await handler(args, deps);
    return typeof outcome === "number" ? outcome : outcome ? EXIT.ok : EXIT.failed;
  } catch (error) {
    if (error instanceof UsageError) {
      const help = `act-sync ${command && COMMANDS[command] ? `${command} ` : ""}--help`;
      deps.stderr(`${printable(error.message)}\nRun '${help}' for usage\n`);
      return EXIT.usage;
    }
    if (error instanceof ConfigError) {
      const file = logConfigError(error, { command, exeDir: deps.exeDir, secrets });
      deps.stderr(`${printable(error.message)}\n${file ? `(also written to "${file}")\n` : ""}`);
      return EXIT.usage;
    }
    if (error instanceof LockError) {
      deps.stderr(`${printable(error.message)}\n`);
      return EXIT.locked;
    }
    deps.stderr(`Error: ${printable(errorMessage(error))}\n`);
    return EXIT.failed;
  }
}

/** An error message for the terminal: control characters escaped, its own line breaks kept. */
function printable(message: string): string {
  return message.split("\n").map(escapeControl).join("\n");
}

/** A command: true when it succeeded; usage, config and lock problems are thrown. */
type CommandHandler = (args: string[], deps: CliDeps) => Promise<boolean | number>;

/** One entry per command; "" is the default: `--once`, else service mode. */
const COMMANDS: Record<string, CommandHandler> = {
  "": async (args, deps) => {
    const { RUN_FLAGS, runOnce } = await import("./once.ts");
    const parsed = parseCommand(args, RUN_FLAGS);
    if (parsed.values.once) return await runOnce(parsed, deps);
    return await (await import("./serve.ts")).runServe(parsed, deps);
  },
  check: async (args, deps) => (await import("./check.ts")).checkCommand(args, deps),
  state: async (args, deps) => (await import("./state.ts")).stateCommand(args, deps),
  reset: async (args, deps) => (await import("./reset.ts")).resetCommand(args, deps),
  reconcile: async (args, deps) => (await import("./reconcile.ts")).reconcileCommand(args, deps),
  stop: async (args, deps) => (await import("./stop.ts")).stopCommand(args, deps),
  scrub: async (args, deps) => (await import("./scrub.ts")).scrubCommand(args, deps),
  notify: async (args, deps) => (await import("./notify.ts")).notifyCommand(args, deps),
  backup: async (args, deps) => (await import("./backup.ts")).backupCommand(args, deps),
  demo: async (args, deps) => (await import("./demo.ts")).runDemo(args, deps),
  simulate: async (args, deps) => (await import("./simulate.ts")).runSimulate(args, deps),
};
