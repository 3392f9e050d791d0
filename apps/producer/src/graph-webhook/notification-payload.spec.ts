import { PayloadTooLargeException } from '@nestjs/common';
import { AppError } from '../http/app-error';
import { parseNotificationBody } from './notification-payload';

const change = (overrides: Record<string, unknown> = {}) => ({
  id: 'notification-1',
  subscriptionId: 'sub-1',
  subscriptionExpirationDateTime: '2026-03-02T00:00:00Z',
  changeType: 'created',
  resource: 'Users/u-1/Messages/AAMk1',
  tenantId: 't-1',
  clientState: 'secret-state',
  resourceData: {
    '@odata.type': '#Microsoft.Graph.Message',
    '@odata.id': 'Users/u-1/Messages/AAMk1',
    '@odata.etag': 'W/"CQAAA"',
    id: 'AAMk1',
  },
  ...overrides,
});
const lifecycle = { subscriptionId: 'sub-1', clientState: 'secret-state', lifecycleEvent: 'missed' };
const MAX = 1000;
const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('did not throw');
}

describe('parseNotificationBody', () => {
  it("keeps only the fields we use of Graph's change notifications", () => {
    expect(parseNotificationBody(bytes({ value: [change()] }), 'notifications', MAX)).toEqual({
      changes: [
        {
          subscriptionId: 'sub-1',
          clientState: 'secret-state',
          changeType: 'created',
          resource: 'Users/u-1/Messages/AAMk1',
          resourceData: { id: 'AAMk1' },
        },
      ],
      lifecycle: [],
    });
  });

  it('separates lifecycle items on the notification endpoint; the lifecycle endpoint takes only those', () => {
    const body = bytes({ value: [change({ resourceData: undefined }), lifecycle] });
    const parsed = parseNotificationBody(body, 'notifications', MAX);
    expect(parsed.changes).toHaveLength(1);
    expect(parsed.changes[0].resourceData).toBeUndefined();
    expect(parsed.lifecycle).toEqual([lifecycle]);
    expect(parseNotificationBody(bytes({ value: [lifecycle] }), 'lifecycle', MAX).lifecycle).toEqual([
      lifecycle,
    ]);
    expect(errorOf(() => parseNotificationBody(body, 'lifecycle', MAX))).toEqual({
      code: 'INVALID_NOTIFICATION',
      message: 'not a Graph notification payload: value.0: not a lifecycle notification',
    });
  });

  it('400 INVALID_JSON for bytes that are not JSON', () => {
    for (const raw of ['', '{', '{"value": [}', 'null x', '\u00ff']) {
      expect(errorOf(() => parseNotificationBody(bytes(raw), 'notifications', MAX)).code).toBe(
        'INVALID_JSON',
      );
    }
  });

  it('400 INVALID_NOTIFICATION for JSON of the wrong shape, naming paths and rules, never values', () => {
    const cases: Array<[unknown, string]> = [
      [[], '(root): invalid_type'],
      [{}, 'value: invalid_type'],
      [{ value: 'x' }, 'value: invalid_type'],
      [{ value: ['x'] }, 'value.0: invalid_type'],
      [{ value: [change({ changeType: 'secret-looking' })] }, 'value.0.changeType: invalid_enum_value'],
      [{ value: [change({ subscriptionId: 42 })] }, 'value.0.subscriptionId: invalid_type'],
      [{ value: [change({ resource: 'r'.repeat(2049) })] }, 'value.0.resource: too_big'],
      [{ value: [{ ...lifecycle, lifecycleEvent: 'other' }] }, 'value.0.lifecycleEvent: invalid_enum_value'],
    ];
    for (const [body, problem] of cases) {
      const err = errorOf(() => parseNotificationBody(bytes(body), 'notifications', MAX));
      expect(err).toEqual({
        code: 'INVALID_NOTIFICATION',
        message: `not a Graph notification payload: ${problem}`,
      });
      expect(err.message).not.toContain('secret');
    }
  });

  it('413 TOO_MANY_NOTIFICATIONS for more than the configured number of items, before checking any item', () => {
    const items = (n: number) => ({ value: Array.from({ length: n }, () => ({ junk: true })) });
    let thrown: unknown;
    try {
      parseNotificationBody(bytes(items(MAX + 1)), 'notifications', MAX);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(PayloadTooLargeException);
    expect((thrown as PayloadTooLargeException).getResponse()).toEqual({
      error: 'TOO_MANY_NOTIFICATIONS',
      message: 'a notification body may hold at most 1000 items',
    });
    // exactly the cap is read (and its items checked)
    expect(errorOf(() => parseNotificationBody(bytes(items(MAX)), 'lifecycle', MAX)).code).toBe(
      'INVALID_NOTIFICATION',
    );
  });

  it('takes an already-parsed body as well, and an empty batch', () => {
    expect(parseNotificationBody({ value: [] }, 'notifications', MAX)).toEqual({
      changes: [],
      lifecycle: [],
    });
    expect(parseNotificationBody({ value: [change()] }, 'notifications', MAX).changes).toHaveLength(1);
  });
});
