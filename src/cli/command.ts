/**
 * What every command gets and what it may end with: {@linkcode CliDeps}, the outside world passed
 * down from `main()` in mod.ts, and {@linkcode EXIT}, the exit codes of the contract.
 *
 * @module
 */
import type { Secrets } from "../core/secrets.ts";

/** Exit codes of the contract. */
export const EXIT = { ok: 0, failed: 1, usage: 2, locked: 3, auth: 4 } as const;

/** What the CLI needs from the outside world; `main()` in mod.ts passes the real ones. */
export interface CliDeps {
  /** Command-line arguments without the program name. */
  args: string[];
  /** Environment variables. */
  env: Record<string, string | undefined>;
  /** Working directory. */
  cwd: string;
  /** Standard output (results, tables). */
  stdout: (text: string) => void;
  /** Standard error (logs, errors). */
  stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress lines). */
  isTty: boolean;
  /**
   * The secrets redacted from everything printed; {@linkcode runCli} creates it (and wraps
   * `stdout`/`stderr` with it), the commands fill it from the configuration.
   */
  secrets?: Secrets;
  /**
   * The folder of the act-sync executable (a compiled binary), searched for
   * `configuration.json` after `cwd`; undefined when running from source.
   */
  exeDir?: string;
}
