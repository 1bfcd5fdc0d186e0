/**
 * The service's alerting: after every run and on a periodic check, {@linkcode Alerter} asks
 * {@linkcode detectAlerts} what is new, hands each alert to the {@linkcode Notifier} (background
 * delivery) and keeps the open events in a file beside the state file (`state.alerts.json` for
 * `state.json`), so that a restart neither repeats an alert nor forgets a recovery.
 *
 * @module
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { NotifyEvent } from "../config/mod.ts";
import { type Alert, type AlertMemory, detectAlerts, emptyMemory } from "./alerts.ts";
import type { Monitor, RunRecord } from "./monitor.ts";
import type { Notifier } from "./notifier.ts";

/** The file of open alert events beside `stateFile`. */
export function alertMemoryFile(stateFile: string): string {
  return stateFile.replace(/\.json$/i, "") + ".alerts.json";
}

/** Read the open events; an absent or unreadable file is an empty memory. */
export function readAlertMemory(file: string): AlertMemory {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8"));
    return parsed && typeof parsed.open === "object" && parsed.open ? parsed : emptyMemory();
  } catch {
    return emptyMemory();
  }
}

/** What {@linkcode Alerter} needs. */
export interface AlerterOptions {
  monitor: Monitor;
  notifier: Notifier;
  logger: Logger;
  events: readonly NotifyEvent[];
  /** The state file: the open events are kept beside it. */
  stateFile: string;
  /** The status page's address, when reachable from other machines. */
  statusUrl?: string;
  /** Host clock in ms. @default {Date.now} */
  now?: () => number;
}

/** Raises each alert once per event. */
export class Alerter {
  #options: AlerterOptions;
  #file: string;
  #memory: AlertMemory;

  constructor(options: AlerterOptions) {
    this.#options = options;
    this.#file = alertMemoryFile(options.stateFile);
    this.#memory = readAlertMemory(this.#file);
  }

  /** A run ended. */
  afterRun(record: RunRecord): void {
    this.#check(record);
  }

  /** The periodic check (staleness shows without a run). */
  tick(): void {
    this.#check(null);
  }

  #check(record: RunRecord | null): void {
    const { monitor, events, statusUrl } = this.#options;
    const now = (this.#options.now ?? Date.now)();
    const { alerts, memory } = detectAlerts(this.#memory, {
      record,
      health: monitor.health(),
      staleTables: monitor.staleTables(),
      events,
      at: new Date(now).toISOString(),
      statusUrl,
    });
    const changed = JSON.stringify(memory) !== JSON.stringify(this.#memory);
    this.#memory = memory;
    if (changed) this.#save();
    for (const alert of alerts) this.#send(alert);
  }

  #send(alert: Alert): void {
    this.#options.logger.info(`Alert: ${alert.subject}`, {
      event: alert.event,
      ...(alert.tables.length ? { tables: alert.tables.join(",") } : {}),
    });
    this.#options.notifier.notify(alert);
  }

  #save(): void {
    const temp = `${this.#file}.tmp`;
    try {
      writeFileSync(temp, JSON.stringify(this.#memory, null, 2) + "\n");
      renameSync(temp, this.#file);
    } catch (error) {
      this.#options.logger.warning(
        `Cannot keep the alerts sent in "${this.#file}": ${errorMessage(error)}; ` +
          `after a restart an alert may be sent again`,
      );
    }
  }
}
