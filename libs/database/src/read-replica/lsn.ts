/**
 * A WAL position (`pg_lsn`, written `16/B374D848`) as a number of bytes. Below 2^53 (8 PiB of WAL) it is exact
 * as a JavaScript number, which Redis's Lua (doubles) compares exactly too; beyond that this throws.
 */
export function parseLsn(text: string): number {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!m) throw new Error(`not a WAL position: ${JSON.stringify(text)}`);
  const value = parseInt(m[1], 16) * 2 ** 32 + parseInt(m[2], 16);
  if (!Number.isSafeInteger(value)) throw new Error(`WAL position beyond 2^53: ${text}`);
  return value;
}

/** The `pg_lsn` text of a byte position (inverse of parseLsn). */
export function formatLsn(value: number): string {
  const hi = Math.floor(value / 2 ** 32);
  const lo = value - hi * 2 ** 32;
  return `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`;
}
