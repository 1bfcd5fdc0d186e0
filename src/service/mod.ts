/**
 * Service mode: {@linkcode runService} runs the sync on its schedule and serves the monitoring
 * HTTP app (`/health`, `/state`, `/metrics`, the status page) until it is told to stop.
 *
 * @module
 */
export { isLoopback, runService, type ServiceDeps } from "./service.ts";
