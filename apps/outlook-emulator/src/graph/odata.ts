import { GraphError } from './graph-error';
import type { GraphContext } from './graph-router';
import { isKnownMessageProperty } from '../store/message-view';

export interface Prefer {
  maxPageSize?: number;
  bodyType?: 'html' | 'text';
  immutableIds: boolean;
  applied: string[];
}

/** the `Prefer` header: odata.maxpagesize, outlook.body-content-type and IdType */
export function parsePrefer(header: string | undefined): Prefer {
  const out: Prefer = { immutableIds: false, applied: [] };
  for (const part of (header ?? '').split(',')) {
    const p = part.trim();
    let m = /^odata\.maxpagesize\s*=\s*(\d+)$/i.exec(p);
    if (m) {
      out.maxPageSize = Math.max(1, Number(m[1]));
      out.applied.push(`odata.maxpagesize=${out.maxPageSize}`);
      continue;
    }
    m = /^outlook\.body-content-type\s*=\s*"?(text|html)"?$/i.exec(p);
    if (m) {
      out.bodyType = m[1].toLowerCase() as 'text' | 'html';
      out.applied.push(`outlook.body-content-type="${out.bodyType}"`);
      continue;
    }
    if (/^IdType\s*=\s*"?ImmutableId"?$/i.test(p)) {
      out.immutableIds = true;
      out.applied.push('IdType="ImmutableId"');
    }
  }
  return out;
}

export function preferenceHeaders(prefer: Prefer): Record<string, string> {
  return prefer.applied.length ? { 'Preference-Applied': prefer.applied.join(', ') } : {};
}

/** `$select` as a set of lower-case names; unknown properties are a 400 as on Graph */
export function parseSelect(raw: string | null): Set<string> | undefined {
  if (raw === null || raw.trim() === '') return undefined;
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!isKnownMessageProperty(n)) {
      throw new GraphError(
        400,
        'RequestBroker--ParseUri',
        `Could not find a property named '${n}' on type 'microsoft.graph.message'.`,
      );
    }
  }
  return new Set(names.map((n) => n.toLowerCase()));
}

export function parseIntParam(ctx: GraphContext, name: string, min: number, max: number): number | undefined {
  const raw = ctx.req.query.get(name);
  if (raw === null) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new GraphError(
      400,
      'ErrorInvalidUrlQuery',
      `The value '${raw}' of query parameter '${name}' is out of range (${min}-${max}).`,
    );
  }
  return n;
}

/** an absolute link back to this emulator, keeping the query of the request with some parameters replaced */
export function linkWith(ctx: GraphContext, path: string, replace: Record<string, string | null>): string {
  const q = new URLSearchParams(ctx.req.query);
  for (const [k, v] of Object.entries(replace)) {
    if (v === null) q.delete(k);
    else q.set(k, v);
  }
  const qs = q.toString();
  return `${ctx.origin}/v1.0/${path}${qs ? `?${qs}` : ''}`;
}

export function odataContext(ctx: GraphContext, fragment: string): string {
  return `${ctx.origin}/v1.0/$metadata#${fragment}`;
}
