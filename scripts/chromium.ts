/** Headless Chromium for the status-page checks (tests/service_test.ts, scripts/status_page_check.ts). */
import { execFile } from "node:child_process";

/** Flags for a headless run on this closed network, with a fresh profile folder. */
export function headlessFlags(profile: string): string[] {
  return [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    `--user-data-dir=${profile}`,
  ];
}

/**
 * Run `binary` headless with `args` (asynchronously: the page's server may run in this process);
 * resolves with its standard output, rejects with the tail of its standard error.
 */
export function runChromium(binary: string, profile: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      [...headlessFlags(profile), ...args],
      { timeout: 60_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`chromium failed: ${error.message}: ${stderr.slice(-2000)}`));
        else resolve(stdout);
      },
    );
  });
}
