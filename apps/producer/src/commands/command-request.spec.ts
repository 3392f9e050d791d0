import { randomUUID } from 'node:crypto';
import {
  MAX_INLINE_ATTACHMENT_BYTES,
  mailCommandRequestSchema,
  type MailCommandRequest,
} from '@email-core/contracts';
import {
  canonicalJson,
  checkRecipients,
  decodeAttachments,
  requestHash,
  storedRequest,
  targetMessageIds,
} from './command-request';

const accountId = randomUUID();
const parse = (body: Record<string, unknown>): MailCommandRequest =>
  mailCommandRequestSchema.parse({ accountId, ...body });
const b64 = (bytes: Buffer) => bytes.toString('base64');

const send = (overrides: Record<string, unknown> = {}) =>
  parse({
    action: 'send',
    subject: 'Numbers',
    body: { content: 'attached' },
    toRecipients: [{ address: 'bob@fabrikam.example' }],
    attachments: [{ name: 'a.txt', contentType: 'text/plain', contentBase64: b64(Buffer.from('1234')) }],
    ...overrides,
  });

const errorOf = (fn: () => unknown): { status: number; code: string } => {
  try {
    fn();
  } catch (err) {
    const e = err as { getStatus?: () => number; code?: string; kind?: string; getResponse?: () => unknown };
    if (e.getStatus) return { status: e.getStatus(), code: (e.getResponse?.() as { error: string }).error };
    return { status: e.kind === 'invalid' ? 400 : -1, code: e.code ?? '' };
  }
  throw new Error('did not throw');
};

describe('command requests', () => {
  describe('requestHash', () => {
    it('is the same for the same request whatever the key order, defaults or client id', () => {
      const a = parse({ action: 'markRead', messageIds: ['m1', 'm2'], isRead: true, id: randomUUID() });
      const b = mailCommandRequestSchema.parse({
        isRead: true,
        messageIds: ['m1', 'm2'],
        action: 'markRead',
        accountId,
      });
      expect(requestHash(a)).toBe(requestHash(b));
      expect(requestHash(send())).toBe(requestHash(send({ ccRecipients: [], bccRecipients: [] })));
    });

    it('differs for any other content, attachment bytes included', () => {
      const base = requestHash(parse({ action: 'markRead', messageIds: ['m1'], isRead: true }));
      expect(requestHash(parse({ action: 'markRead', messageIds: ['m1'], isRead: false }))).not.toBe(base);
      expect(requestHash(parse({ action: 'markRead', messageIds: ['m2'], isRead: true }))).not.toBe(base);
      const other = send({
        attachments: [{ name: 'a.txt', contentType: 'text/plain', contentBase64: b64(Buffer.from('1235')) }],
      });
      expect(requestHash(other)).not.toBe(requestHash(send()));
    });

    it('canonical JSON sorts keys at every level and keeps array order', () => {
      expect(canonicalJson({ b: [2, { d: 1, c: 2 }], a: 'x', u: undefined })).toBe(
        '{"a":"x","b":[2,{"c":2,"d":1}]}',
      );
    });
  });

  describe('decodeAttachments', () => {
    it('decodes to the bytes', () => {
      expect(decodeAttachments(send())).toEqual([
        { name: 'a.txt', contentType: 'text/plain', content: Buffer.from('1234'), position: 0 },
      ]);
      expect(decodeAttachments(parse({ action: 'delete', messageIds: ['m'] }))).toEqual([]);
    });

    it('takes exactly the inline limit, and answers 413 ATTACHMENT_TOO_LARGE one byte over it', () => {
      const atLimit = Buffer.alloc(MAX_INLINE_ATTACHMENT_BYTES, 7);
      const ok = send({ attachments: [{ name: 'big.bin', contentBase64: b64(atLimit) }] });
      expect(decodeAttachments(ok)[0].content.length).toBe(MAX_INLINE_ATTACHMENT_BYTES);
      const over = send({
        attachments: [
          { name: 'ok.txt', contentBase64: b64(Buffer.from('x')) },
          { name: 'huge.bin', contentBase64: b64(Buffer.alloc(MAX_INLINE_ATTACHMENT_BYTES + 1)) },
        ],
      });
      expect(errorOf(() => decodeAttachments(over))).toEqual({ status: 413, code: 'ATTACHMENT_TOO_LARGE' });
    });

    it.each(['not base64!', 'YWJj\nZA==', 'YWJjZA', 'YW=jZA==', 'YWJjZA-_'])(
      'answers 400 INVALID_ATTACHMENT for %j',
      (contentBase64) => {
        const bad = send({ attachments: [{ name: 'x', contentBase64 }] });
        expect(errorOf(() => decodeAttachments(bad))).toEqual({ status: 400, code: 'INVALID_ATTACHMENT' });
      },
    );
  });

  it('stores the request without its id or attachment content', () => {
    const request = send({ id: randomUUID() });
    const stored = storedRequest(request);
    expect(stored).not.toHaveProperty('id');
    expect(stored.attachments).toEqual([{ name: 'a.txt', contentType: 'text/plain', size: 4 }]);
    expect(JSON.stringify(stored)).not.toContain(b64(Buffer.from('1234')));
    expect(stored.toRecipients).toEqual([{ address: 'bob@fabrikam.example' }]);
  });

  it('targets every named message once', () => {
    expect(targetMessageIds(parse({ action: 'delete', messageIds: ['a', 'b', 'a'] }))).toEqual(['a', 'b']);
    expect(targetMessageIds(parse({ action: 'reply', messageId: 'r' }))).toEqual(['r']);
    expect(targetMessageIds(send())).toEqual([]);
  });

  it('400 NO_RECIPIENTS for a mail or forward to nobody; a reply needs none', () => {
    const noOne = send({ toRecipients: [] });
    expect(errorOf(() => checkRecipients(noOne))).toEqual({ status: 400, code: 'NO_RECIPIENTS' });
    expect(() =>
      checkRecipients(send({ toRecipients: [], bccRecipients: [{ address: 'x@y.example' }] })),
    ).not.toThrow();
    const forward = parse({ action: 'forward', messageId: 'm', toRecipients: [] });
    expect(errorOf(() => checkRecipients(forward))).toEqual({ status: 400, code: 'NO_RECIPIENTS' });
    expect(() => checkRecipients(parse({ action: 'reply', messageId: 'm' }))).not.toThrow();
  });
});
