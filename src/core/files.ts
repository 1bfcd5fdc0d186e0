/**
 * Reading a file that must be a regular file (the config file, the state file, a CA file). A
 * named pipe given by mistake would otherwise block the read until something writes to it, which
 * may be never; a folder or a device is refused the same way, with what it is.
 *
 * @module
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from "node:fs";
import { open } from "node:fs/promises";
import { Buffer } from "node:buffer";

/** Open for reading without waiting for a writer (a named pipe opens at once). */
const READ_NOW = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * The bytes of the regular file at `path`. Throws what `open` throws (`ENOENT`…), or an Error
 * with code `ENOTREG` saying what the path is instead ("it is a named pipe, not a regular file").
 * The file is opened without blocking, so a named pipe is refused at once.
 */
export function readRegularFileSync(path: string): Buffer {
  const fd = openSync(path, READ_NOW);
  try {
    refuseIrregular(fstatSync(fd));
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** {@linkcode readRegularFileSync}, without blocking the event loop while reading. */
export async function readRegularFile(path: string): Promise<Buffer> {
  const file = await open(path, READ_NOW);
  try {
    refuseIrregular(await file.stat());
    return await file.readFile();
  } finally {
    await file.close();
  }
}

/** Throws the `ENOTREG` error when `stats` are not those of a regular file. */
function refuseIrregular(stats: Stats): void {
  if (stats.isFile()) return;
  throw Object.assign(new Error(`it is ${kindOf(stats)}, not a regular file`), {
    code: "ENOTREG",
  });
}

/** What a file that is not a regular file is, for a message. */
function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return "a named pipe";
  if (stats.isDirectory()) return "a folder";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  return "a special file";
}
