/**
 * `act-sync stop`: ask the service running with this configuration to finish the page being
 * written and exit (`POST /stop` on its monitoring endpoint, with `http_token` when set). For
 * Task Scheduler, whose "End" kills the process.
 *
 * @module
 */
import { errorMessage } from "../core/errors.ts";
import { configFromArgs, parseCommand } from "./_flags.ts";
import type { CliDeps } from "./command.ts";

/** Send the stop request; true when the service accepted it. */
export async function stopCommand(args: string[], deps: CliDeps): Promise<boolean> {
  const { config } = await configFromArgs(parseCommand(args), deps, { offline: true });
  // A wildcard bind (0.0.0.0, ::) is reached on loopback from this machine.
  const host = config.http_host === "0.0.0.0" || config.http_host === ""
    ? "127.0.0.1"
    : config.http_host === "::"
    ? "::1"
    : config.http_host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${config.http_port}/stop`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: config.http_token ? { authorization: `Bearer ${config.http_token}` } : {},
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    deps.stderr(
      `Cannot reach the service at ${url}: ${errorMessage(error, { cause: true })}: ` +
        `is it running with this configuration ('http_host', 'http_port')?\n`,
    );
    return false;
  }
  const body = await response.text();
  if (response.status !== 202) {
    let reason = body.slice(0, 300);
    try {
      reason = String(JSON.parse(body).error ?? reason);
    } catch {
      // not JSON: the excerpt
    }
    deps.stderr(`The service at ${url} refused to stop (status ${response.status}): ${reason}\n`);
    return false;
  }
  deps.stdout(
    `Stop requested: the service finishes the page being written, saves its state and exits\n`,
  );
  return true;
}
