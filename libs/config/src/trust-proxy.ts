import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Express's `trust proxy` setting, as `app.set('trust proxy', value)` takes it: `false` (the default: the
 * client's address is the socket's, and `X-Forwarded-For` is ignored), a hop count (`1`: one proxy in front, such
 * as ngrok or a load balancer; the address is the one it saw), or the proxies' addresses (IPs, CIDR ranges, and
 * the keywords `loopback`, `linklocal`, `uniquelocal`).
 */
export type TrustProxy = false | number | string[];

const KEYWORDS = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrRange(entry: string): boolean {
  if (KEYWORDS.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

export const trustProxy = z
  .string()
  .default('false')
  .transform((raw, ctx): TrustProxy => {
    const value = raw.trim().toLowerCase();
    if (value === 'false' || value === '0') return false;
    if (value === 'true') {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message:
          'true would trust every X-Forwarded-For, so any client could pick its address: give the number of ' +
          'proxies in front (e.g. 1) or their addresses (IPs, CIDRs, loopback, uniquelocal)',
      });
      return z.NEVER;
    }
    if (/^\d+$/.test(value)) return Number(value);
    const entries = value
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    if (entries.length === 0 || !entries.every(isAddressOrRange)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message:
          'false, a hop count (e.g. 1), or a comma-separated list of proxy IPs/CIDRs and the keywords ' +
          'loopback, linklocal, uniquelocal',
      });
      return z.NEVER;
    }
    return entries;
  });
