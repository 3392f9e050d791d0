import { decodeMessageCursor, encodeMessageCursor } from './message-cursor';

describe('message cursor', () => {
  const key = { receivedAt: '2025-03-01T10:15:30.123456Z', id: 'AAMkAGI2-TAAA_x==' };

  it('round-trips the keyset position, microseconds and id characters intact', () => {
    const cursor = encodeMessageCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeMessageCursor(cursor)).toEqual(key);
  });

  it('is opaque but only base64url (safe in a query string without encoding)', () => {
    const cursor = encodeMessageCursor({ receivedAt: '2025-03-01T10:15:30Z', id: '??>>~~ü/+=' });
    expect(cursor).not.toMatch(/[+/=?]/);
    expect(decodeMessageCursor(cursor)?.id).toBe('??>>~~ü/+=');
  });

  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it.each([
    ['empty', ''],
    ['not base64url', 'abc+/='],
    ['not JSON', Buffer.from('nope').toString('base64url')],
    ['an object', b64({ receivedAt: key.receivedAt, id: key.id })],
    ['too short', b64([key.receivedAt])],
    ['too long', b64([key.receivedAt, key.id, 'x'])],
    ['a number for the time', b64([1700000000, key.id])],
    ['a time without zone', b64(['2025-03-01T10:15:30', key.id])],
    ['a time with an offset', b64(['2025-03-01T10:15:30+02:00', key.id])],
    ['an impossible date', b64(['2025-02-30T10:15:30Z', key.id])],
    ['seven fractional digits', b64(['2025-03-01T10:15:30.1234567Z', key.id])],
    ['an empty id', b64([key.receivedAt, ''])],
    ['a huge id', b64([key.receivedAt, 'x'.repeat(1025)])],
    ['a non-string id', b64([key.receivedAt, 42])],
  ])('refuses %s', (_what, cursor) => {
    expect(decodeMessageCursor(cursor)).toBeNull();
  });
});
