/**
 * Configuration: the valibot schema (the single source of the {@linkcode Config} type), a pure
 * {@linkcode parseConfig} that merges file, environment (`ACT_<KEY>`) and CLI overrides, and a thin
 * {@linkcode loadConfig} that reads `configuration.json`.
 *
 * Every value may be written as a string (as in the file of the Python connector act-sync
 * replaces, which it reads as it is) or as a JSON number/boolean. Problems are collected and thrown
 * together as one {@linkcode ConfigError}; each names the key and the bad value, never the password
 * or token.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig, redactConfig } from "./mod.ts";
 *
 * // loadConfig({ env: process.env, cwd: process.cwd() }) reads configuration.json, then does this:
 * const { config } = parseConfig({
 *   hostname: "act.example.com",
 *   username: "sync",
 *   password: "s3cret",
 *   database_name: "ActDemo",
 *   batch_size: "500",
 * }, { baseDir: "." });
 * assert.equal(config.batch_size, 500);
 * assert.equal(redactConfig(config).password, "***");
 * ```
 *
 * @module
 */
export { type Config, CONFIG_KEYS, ConfigSchema, envName } from "./schema.ts";
export {
  loadConfig,
  type LoadConfigOptions,
  parseConfig,
  type ParseConfigOptions,
  redactConfig,
} from "./load.ts";
export {
  type EmailTarget,
  NOTIFY_EVENTS,
  type NotifyEvent,
  type NotifyTarget,
  showWebhook,
  type WebhookTarget,
  webhookTokens,
} from "./_notify.ts";
export { formatDuration, type MaxStaleness } from "./_freshness.ts";
export type { FieldLists } from "./_fields.ts";
