/**
 * HTTP Basic credentials, both ways: the header act-sync sends to Act!, and reading one back
 * (the simulator's `/authorize`, the monitoring endpoint's token check).
 *
 * @module
 */

/** `Basic base64(UTF-8 bytes of "username:password")`. */
export function basicAuthorization(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/**
 * The credentials of a `Basic` value (the base64 part): the user name and the password after the
 * first colon (null when there is no colon), or null when it is not base64 of UTF-8 text.
 */
export function decodeBasic(value: string): { username: string; password: string | null } | null {
  let decoded: string;
  try {
    const binary = atob(value);
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(binary, (c) => c.charCodeAt(0)),
    );
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  return colon < 0
    ? { username: decoded, password: null }
    : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
