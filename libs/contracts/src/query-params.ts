import { z } from 'zod';

/** the earliest and latest instants a date parameter may name: both Postgres `timestamptz` and JS `Date` hold them */
export const MIN_INSTANT = '0001-01-01T00:00:00Z';
export const MAX_INSTANT = '9999-12-31T23:59:59.999Z';
const MIN_MS = Date.parse(MIN_INSTANT);
const MAX_MS = Date.parse(MAX_INSTANT);
/** real zones stop at ±14:00; Postgres refuses ±16:00 and more, JS takes up to ±23:59 */
const MAX_OFFSET_MINUTES = 14 * 60;
const OFFSET = /([+-])(\d{2}):?(\d{2})$/;

/**
 * Does an ISO 8601 date-time (already shaped like one) name an instant that Postgres and JS agree on? Its
 * written year is 0001 or later (Postgres has no year 0: `0000-01-01T00:00:00Z` made it fail with a 500, issue
 * 16), its zone offset at most ±14:00, and the instant, in UTC, within MIN_INSTANT..MAX_INSTANT.
 */
export function isStorableInstant(value: string): boolean {
  if (!/^\d{4}-/.test(value) || value.startsWith('0000')) return false;
  const offset = OFFSET.exec(value);
  if (offset && Number(offset[2]) * 60 + Number(offset[3]) > MAX_OFFSET_MINUTES) return false;
  const ms = Date.parse(value);
  return Number.isFinite(ms) && ms >= MIN_MS && ms <= MAX_MS;
}

/**
 * A date parameter: ISO 8601 with a zone (`2025-01-31T00:00:00Z`, `…+01:00`), a real calendar date, within what
 * Postgres and JS can both hold. Anything else is a 400 `VALIDATION_FAILED` naming the parameter, never a query.
 */
export const isoInstant = () =>
  z
    .string()
    .max(64, 'must be an ISO 8601 date-time')
    .datetime({
      offset: true,
      message: 'must be an ISO 8601 date-time with a zone, e.g. 2025-01-31T00:00:00Z',
    })
    .refine(isStorableInstant, {
      message: `must be between ${MIN_INSTANT} and ${MAX_INSTANT}, with a zone offset of at most ±14:00`,
    });

/**
 * A whole-number query parameter from `min` to `max` (at most Number.MAX_SAFE_INTEGER): digits only, so `1e3`,
 * `-1`, `0x10`, `NaN`, `Infinity` and a 400-digit number are all refused rather than coerced.
 */
export const wholeNumberParam = (name: string, min: number, max: number) =>
  z
    .string({ required_error: `${name} is required` })
    .max(32, `${name} must be a whole number from ${min} to ${max}`)
    .regex(/^\d+$/, `${name} must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, `${name} must be a whole number from ${min} to ${max}`)
        .max(Math.min(max, Number.MAX_SAFE_INTEGER), `${name} must be a whole number from ${min} to ${max}`),
    );

/** text that Postgres can store and compare: no NUL or other C0 control character */
export function hasNoControlCharacters(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) < 0x20) return false;
  return true;
}
