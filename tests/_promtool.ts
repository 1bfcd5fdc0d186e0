/** Run `promtool check metrics` (Debian's `prometheus` package) on Prometheus text, if present. */
import { spawnSync } from "node:child_process";

/** Whether promtool is on the PATH. */
export function hasPromtool(): boolean {
  const result = spawnSync("promtool", ["--version"], { encoding: "utf8" });
  return result.status === 0;
}

/** promtool's verdict: exit code 0 and no output means the text parses and passes the lint. */
export function promtoolCheck(text: string): { status: number | null; output: string } {
  const result = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  return { status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}`.trim() };
}

/** Why a promtool test is skipped, or false when it runs. */
export const PROMTOOL_SKIP: string | false = hasPromtool()
  ? false
  : "promtool not installed (apt-get install prometheus)";
