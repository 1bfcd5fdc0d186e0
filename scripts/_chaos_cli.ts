/**
 * The chaos suite's runs of the CLI (`scripts/chaos.ts`): from source under the current runtime,
 * or a compiled binary, as a child process that can be SIGKILLed at any moment.
 *
 * @module
 */
import { RUNTIME } from "../src/core/runtime.ts";
import { spawn } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** A run that takes longer is killed and reported as `TIMEOUT`. */
export const RUN_TIMEOUT_MS = 120_000;

/** How a CLI run ended, and what it printed. */
export interface ChildResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** The command that runs the CLI from source under the current runtime. */
export function sourceCommand(): string[] {
  const mod = join(ROOT, "mod.ts");
  const bun = RUNTIME === "bun";
  return bun ? [process.execPath, mod] : [process.execPath, "run", "-A", mod];
}

/** Run the CLI; `onStart` gets a function that SIGKILLs it. */
export function runCli(
  command: string[],
  args: string[],
  onStart?: (kill: () => void) => void,
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], [...command.slice(1), ...args], {
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk) => stdout += chunk);
    child.stderr!.on("data", (chunk) => stderr += chunk);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, RUN_TIMEOUT_MS);
    onStart?.(() => child.kill("SIGKILL"));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal: timedOut ? "TIMEOUT" : signal, stdout, stderr });
    });
  });
}
