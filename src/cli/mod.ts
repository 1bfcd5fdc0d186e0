/**
 * argv → command: the usage text, the dispatch to one file per command (`once.ts`, `serve.ts`,
 * `check.ts`, `state.ts`, `reset.ts`, `reconcile.ts`, `stop.ts`, `backup.ts`, `demo.ts`,
 * `simulate.ts`), and the only place that decides the exit code (commands return whether they
 * succeeded, or throw).
 *
 * @module
 */
export { runCli, USAGE } from "./run.ts";
export { type CliDeps, EXIT } from "./command.ts";
