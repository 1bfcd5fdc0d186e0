/** The act-sync version (kept equal to package.json's by scripts/build.sh). */
export const VERSION = "0.1.0";
/** The git commit the binary was built from, filled in by scripts/build.sh; empty from source. */
export const COMMIT = "";
