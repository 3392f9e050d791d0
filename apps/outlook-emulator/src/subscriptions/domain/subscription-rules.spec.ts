import { GraphError } from '../../graph/graph-error';
import {
  checkNotificationUrl,
  parseChangeType,
  parseClientState,
  parseCreateRequest,
  parseExpiration,
  parseRenewRequest,
} from './subscription-rules';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const minutes = (n: number) => new Date(NOW + n * 60_000).toISOString();
const rules = { now: NOW, maxMinutes: 4230, strictNotificationUrls: false };

/** the Graph error a call throws, as `{status, code, message}` */
function errorOf(fn: () => unknown): { status: number; code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof GraphError) return { status: err.status, code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a GraphError');
}

const validBody = (overrides: Record<string, unknown> = {}) => ({
  changeType: 'created,updated,deleted',
  notificationUrl: 'https://hooks.example.com/graph?tenant=a%20b',
  lifecycleNotificationUrl: 'https://hooks.example.com/lifecycle',
  resource: "me/mailFolders('Inbox')/messages",
  expirationDateTime: minutes(60),
  clientState: 'opaque-secret',
  ...overrides,
});

describe('subscription rules', () => {
  describe('expiration cap', () => {
    it('accepts an expiry exactly at the cap', () => {
      expect(parseExpiration(minutes(4230), NOW, 4230)).toBe(NOW + 4230 * 60_000);
    });

    it("refuses one past the cap with Graph's ExtensionError, naming the configured cap", () => {
      expect(errorOf(() => parseExpiration(minutes(4231), NOW, 4230))).toEqual({
        status: 400,
        code: 'ExtensionError',
        message: 'Subscription expiration can only be 4230 minutes in the future.',
      });
      expect(errorOf(() => parseExpiration(minutes(61), NOW, 60)).message).toBe(
        'Subscription expiration can only be 60 minutes in the future.',
      );
    });

    it('refuses a past or present expiry, a missing one and a malformed one', () => {
      expect(errorOf(() => parseExpiration(minutes(-1), NOW, 4230))).toMatchObject({
        status: 400,
        code: 'InvalidRequest',
      });
      expect(errorOf(() => parseExpiration(minutes(0), NOW, 4230)).code).toBe('InvalidRequest');
      expect(errorOf(() => parseExpiration(undefined, NOW, 4230)).message).toBe(
        'expirationDateTime is required.',
      );
      expect(errorOf(() => parseExpiration('next tuesday', NOW, 4230)).code).toBe('InvalidRequest');
    });

    it('reads a date-time without an offset as UTC, and honours an explicit offset', () => {
      expect(parseExpiration('2026-03-01T13:00:00', NOW, 4230)).toBe(NOW + 60 * 60_000);
      expect(parseExpiration('2026-03-01T14:00:00+01:00', NOW, 4230)).toBe(NOW + 60 * 60_000);
      expect(parseExpiration('2026-03-01T13:00:00.1234567Z', NOW, 4230)).toBe(NOW + 60 * 60_000 + 123);
    });

    it('applies the same rules to a renewal', () => {
      expect(parseRenewRequest({ expirationDateTime: minutes(100) }, NOW, 4230)).toBe(NOW + 100 * 60_000);
      expect(errorOf(() => parseRenewRequest({ expirationDateTime: minutes(5000) }, NOW, 4230)).code).toBe(
        'ExtensionError',
      );
      expect(errorOf(() => parseRenewRequest(undefined, NOW, 4230))).toEqual({
        status: 400,
        code: 'BadRequest',
        message: 'Empty Payload. JSON content expected.',
      });
    });
  });

  describe('notification URLs', () => {
    it('takes https anywhere and http on loopback only', () => {
      expect(checkNotificationUrl('https://hooks.example.com/x', 'notificationUrl', false)).toBe(
        'https://hooks.example.com/x',
      );
      for (const url of ['http://localhost:3000/x', 'http://127.0.0.1:8080/x?a=1', 'http://[::1]:81/']) {
        expect(checkNotificationUrl(url, 'notificationUrl', false)).toBe(url);
      }
      expect(
        errorOf(() => checkNotificationUrl('http://hooks.example.com/x', 'notificationUrl', false)),
      ).toEqual({
        status: 400,
        code: 'InvalidRequest',
        message: 'notificationUrl must use https.',
      });
    });

    it('refuses http on loopback too in strict mode', () => {
      expect(
        errorOf(() => checkNotificationUrl('http://127.0.0.1/x', 'lifecycleNotificationUrl', true)).message,
      ).toBe('lifecycleNotificationUrl must use https.');
      expect(checkNotificationUrl('https://127.0.0.1/x', 'notificationUrl', true)).toBe(
        'https://127.0.0.1/x',
      );
    });

    it('refuses other schemes and non-URLs', () => {
      expect(errorOf(() => checkNotificationUrl('ftp://127.0.0.1/x', 'notificationUrl', false)).code).toBe(
        'InvalidRequest',
      );
      expect(errorOf(() => checkNotificationUrl('not a url', 'notificationUrl', false)).code).toBe(
        'InvalidRequest',
      );
      expect(errorOf(() => checkNotificationUrl(undefined, 'notificationUrl', false)).message).toBe(
        'notificationUrl is required.',
      );
    });
  });

  it('reads changeType as a comma list of created, updated and deleted', () => {
    expect(parseChangeType('created')).toEqual(['created']);
    expect(parseChangeType('created, Updated,deleted,created')).toEqual(['created', 'updated', 'deleted']);
    expect(errorOf(() => parseChangeType('created,moved')).code).toBe('InvalidRequest');
    expect(errorOf(() => parseChangeType('')).code).toBe('InvalidRequest');
    expect(errorOf(() => parseChangeType(['created'])).code).toBe('InvalidRequest');
  });

  it('limits clientState to 128 characters', () => {
    expect(parseClientState('x'.repeat(128))).toHaveLength(128);
    expect(parseClientState(undefined)).toBeNull();
    expect(errorOf(() => parseClientState('x'.repeat(129))).message).toBe(
      'clientState cannot be longer than 128 characters.',
    );
  });

  describe('parseCreateRequest', () => {
    it('returns the checked request', () => {
      expect(parseCreateRequest(validBody(), rules)).toEqual({
        resource: "me/mailFolders('Inbox')/messages",
        target: { user: null, folder: 'Inbox' },
        changeTypes: ['created', 'updated', 'deleted'],
        notificationUrl: 'https://hooks.example.com/graph?tenant=a%20b',
        lifecycleNotificationUrl: 'https://hooks.example.com/lifecycle',
        expiresAt: NOW + 60 * 60_000,
        clientState: 'opaque-secret',
        latestSupportedTlsVersion: 'v1_2',
      });
    });

    it('makes lifecycleNotificationUrl and clientState optional', () => {
      const req = parseCreateRequest(
        validBody({ lifecycleNotificationUrl: undefined, clientState: undefined }),
        rules,
      );
      expect(req.lifecycleNotificationUrl).toBeNull();
      expect(req.clientState).toBeNull();
    });

    it('refuses an unsupported resource, rich notifications, and an empty body', () => {
      expect(errorOf(() => parseCreateRequest(validBody({ resource: 'me/events' }), rules)).code).toBe(
        'InvalidRequest',
      );
      expect(errorOf(() => parseCreateRequest(validBody({ includeResourceData: true }), rules)).code).toBe(
        'InvalidRequest',
      );
      expect(errorOf(() => parseCreateRequest(undefined, rules)).code).toBe('BadRequest');
      expect(
        errorOf(() => parseCreateRequest(validBody({ latestSupportedTlsVersion: 'v2' }), rules)).code,
      ).toBe('InvalidRequest');
    });
  });
});
