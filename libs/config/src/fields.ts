import { z } from 'zod';

/** Reusable, strict parsers for environment variables. Each one explains what a good value looks like. */

const hostPort = /^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/;

export interface HostPort {
  host: string;
  port: number;
}

export function parseHostPort(value: string): HostPort {
  const idx = value.lastIndexOf(':');
  const host = value.slice(0, idx).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(value.slice(idx + 1)) };
}

/** A comma-separated list of host:port pairs, e.g. `127.0.0.1:9092,127.0.0.1:9094`. */
export const hostPortList = z
  .string({ required_error: 'required (comma-separated host:port list)' })
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .refine((list) => list.length > 0, 'must list at least one host:port')
  .refine((list) => list.every((x) => hostPort.test(x) && Number(x.split(':').pop()) <= 65535), {
    message: 'every entry must look like host:port (e.g. 127.0.0.1:9092)',
  });

export const postgresUrl = z
  .string({ required_error: 'required (postgres://user[:password]@host:port/database)' })
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'postgres:' || u.protocol === 'postgresql:') && u.pathname.length > 1;
    } catch {
      return false;
    }
  }, 'must be a postgres:// URL that names a database, e.g. postgres://postgres@127.0.0.1:5432/email_core');

export const port = (fallback: number) =>
  z.coerce
    .number({ invalid_type_error: 'must be a TCP port number' })
    .int('must be a whole number')
    .min(1, 'must be between 1 and 65535')
    .max(65535, 'must be between 1 and 65535')
    .default(fallback);

export const positiveInt = (fallback: number) =>
  z.coerce
    .number({ invalid_type_error: 'must be a number' })
    .int('must be a whole number')
    .positive()
    .default(fallback);

export const httpUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}, 'must be an http:// or https:// URL');

export const httpsUrl = z.string().refine((s) => {
  try {
    return new URL(s).protocol === 'https:';
  } catch {
    return false;
  }
}, 'must be an https:// URL (Microsoft libraries refuse plain http)');

/** `kid:base64key[,kid:base64key...]`; the first key encrypts, all keys decrypt, so keys can rotate. */
export const encryptionKeys = z
  .string({
    required_error:
      'required (kid:base64-of-32-bytes[,kid:key...]); generate one with `openssl rand -base64 32`',
  })
  .transform((s, ctx) => {
    const keys: Array<{ id: string; key: Buffer }> = [];
    for (const part of s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)) {
      const idx = part.indexOf(':');
      const id = part.slice(0, idx);
      const key = Buffer.from(part.slice(idx + 1), 'base64');
      if (idx <= 0 || !/^[A-Za-z0-9_-]{1,32}$/.test(id) || key.length !== 32) {
        // Never echo the value: it is a secret.
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          message: 'each entry must be kid:base64 of exactly 32 bytes',
        });
        return z.NEVER;
      }
      keys.push({ id, key });
    }
    if (keys.length === 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must hold at least one key' });
      return z.NEVER;
    }
    return keys;
  });

export const secret = (minLength: number, what: string) =>
  z
    .string({ required_error: `required (${what}, at least ${minLength} characters)` })
    .min(minLength, `must be at least ${minLength} characters`);

export const logLevel = z.enum(['fatal', 'error', 'warn', 'log', 'debug', 'verbose']).default('log');

/** `LOG_FORMAT`: JSON lines (one object a line) or pino-pretty's text; unset: json in production, else pretty */
export const logFormat = z
  .enum(['json', 'pretty'], { errorMap: () => ({ message: 'must be json or pretty' }) })
  .optional();

/** the log format a process uses: LOG_FORMAT when set, else JSON lines in production and pretty text elsewhere */
export function resolveLogFormat(nodeEnv: string, format: 'json' | 'pretty' | undefined): 'json' | 'pretty' {
  return format ?? (nodeEnv === 'production' ? 'json' : 'pretty');
}

export const nodeEnv = z.enum(['development', 'test', 'production']).default('development');

export const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'], { errorMap: () => ({ message: 'must be true or false' }) })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');
