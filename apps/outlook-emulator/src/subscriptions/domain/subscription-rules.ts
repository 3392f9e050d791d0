import type { ChangeKind } from '../../store/mailbox-store';
import { parseSubscriptionResource, type SubscriptionResource } from './subscription-resource';
import { emptyPayload, expirationBeyondCap, invalidSubscription } from './subscription-errors';

const CHANGE_KINDS: readonly ChangeKind[] = ['created', 'updated', 'deleted'];
const TLS_VERSIONS = ['v1_0', 'v1_1', 'v1_2', 'v1_3'];
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const MAX_CLIENT_STATE = 128;

export interface SubscriptionRules {
  now: number;
  maxMinutes: number;
  strictNotificationUrls: boolean;
}

/** a create request that passed every check that needs no I/O */
export interface CreateSubscriptionRequest {
  resource: string;
  target: SubscriptionResource;
  changeTypes: ChangeKind[];
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  expiresAt: number;
  clientState: string | null;
  latestSupportedTlsVersion: string;
}

export function parseCreateRequest(body: unknown, rules: SubscriptionRules): CreateSubscriptionRequest {
  const b = requireObject(body);
  const resource = requireString(b, 'resource');
  const target = parseSubscriptionResource(resource);
  if (!target) throw invalidSubscription(`The resource '${resource}' is not supported for subscriptions.`);
  if (b.includeResourceData === true) {
    throw invalidSubscription('includeResourceData (rich notifications) is not supported by the emulator.');
  }
  const tls = b.latestSupportedTlsVersion ?? 'v1_2';
  if (typeof tls !== 'string' || !TLS_VERSIONS.includes(tls)) {
    throw invalidSubscription(`latestSupportedTlsVersion must be one of ${TLS_VERSIONS.join(', ')}.`);
  }
  return {
    resource,
    target,
    changeTypes: parseChangeType(b.changeType),
    notificationUrl: checkNotificationUrl(b.notificationUrl, 'notificationUrl', rules.strictNotificationUrls),
    lifecycleNotificationUrl:
      b.lifecycleNotificationUrl === undefined || b.lifecycleNotificationUrl === null
        ? null
        : checkNotificationUrl(
            b.lifecycleNotificationUrl,
            'lifecycleNotificationUrl',
            rules.strictNotificationUrls,
          ),
    expiresAt: parseExpiration(b.expirationDateTime, rules.now, rules.maxMinutes),
    clientState: parseClientState(b.clientState),
    latestSupportedTlsVersion: tls,
  };
}

/** the new expiry of a renewal (`PATCH /subscriptions/{id}`): the same rules as at creation */
export function parseRenewRequest(body: unknown, now: number, maxMinutes: number): number {
  return parseExpiration(requireObject(body).expirationDateTime, now, maxMinutes);
}

export function parseChangeType(value: unknown): ChangeKind[] {
  if (typeof value !== 'string' || !value.trim()) throw invalidSubscription('changeType is required.');
  const kinds: ChangeKind[] = [];
  for (const raw of value.split(',')) {
    const kind = raw.trim().toLowerCase() as ChangeKind;
    if (!CHANGE_KINDS.includes(kind)) {
      throw invalidSubscription(
        `'${raw.trim()}' is not a valid changeType; use created, updated or deleted.`,
      );
    }
    if (!kinds.includes(kind)) kinds.push(kind);
  }
  return kinds;
}

/**
 * Microsoft requires https. The emulator also takes http:// on loopback, so a test or a developer machine can
 * receive notifications without a certificate, unless strict mode is on.
 */
export function checkNotificationUrl(value: unknown, field: string, strict: boolean): string {
  if (typeof value !== 'string' || !value) throw invalidSubscription(`${field} is required.`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidSubscription(`${field} '${value}' is not a valid URL.`);
  }
  if (url.protocol === 'https:') return value;
  if (url.protocol === 'http:' && !strict && LOOPBACK_HOSTS.has(url.hostname)) return value;
  throw invalidSubscription(`${field} must use https.`);
}

export function parseExpiration(value: unknown, now: number, maxMinutes: number): number {
  if (typeof value !== 'string' || !value) throw invalidSubscription('expirationDateTime is required.');
  // Graph reads a date-time without an offset as UTC; Date.parse would read it as local time
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(value);
  const at = Date.parse(hasZone || !value.includes('T') ? value : `${value}Z`);
  if (!Number.isFinite(at))
    throw invalidSubscription(`expirationDateTime '${value}' is not a valid date-time.`);
  if (at <= now) throw invalidSubscription('Subscription expiration must be in the future.');
  if (at - now > maxMinutes * 60_000) throw expirationBeyondCap(maxMinutes);
  return at;
}

export function parseClientState(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalidSubscription('clientState must be a string.');
  if (value.length > MAX_CLIENT_STATE) {
    throw invalidSubscription(`clientState cannot be longer than ${MAX_CLIENT_STATE} characters.`);
  }
  return value;
}

function requireObject(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw emptyPayload();
  return body as Record<string, unknown>;
}

function requireString(b: Record<string, unknown>, field: string): string {
  const v = b[field];
  if (typeof v !== 'string' || !v.trim()) throw invalidSubscription(`${field} is required.`);
  return v.trim();
}
