/**
 * Stop requests: SIGINT/SIGTERM, and Ctrl+C / Ctrl+Break (SIGINT/SIGBREAK) on Windows.
 *
 * @module
 */
import process from "node:process";

/**
 * Call `first` on the first stop signal and `second` on any later one (default: exit at once
 * with code 1); returns an unsubscribe.
 */
export function onStopSignal(
  first: () => void,
  second: () => void = () => process.exit(1),
): () => void {
  const signals = process.platform === "win32" ? ["SIGINT", "SIGBREAK"] : ["SIGINT", "SIGTERM"];
  let count = 0;
  const listener = () => {
    if (++count > 1) second();
    else first();
  };
  for (const signal of signals) process.on(signal, listener);
  return () => {
    for (const signal of signals) process.off(signal, listener);
  };
}
