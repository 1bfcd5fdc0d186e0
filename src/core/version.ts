/**
 * The version (from package.json) and, in built binaries, the git commit.
 *
 * @module
 */
import pkg from "../../package.json" with { type: "json" };

declare const ACT_SYNC_COMMIT: string | undefined;

/** The act-sync version. */
export const VERSION: string = pkg.version;
/** The git commit the binary was built from (set by scripts/build.sh); empty from source. */
export const COMMIT: string = typeof ACT_SYNC_COMMIT === "string" ? ACT_SYNC_COMMIT : "";
