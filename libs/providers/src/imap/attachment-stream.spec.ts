import { randomBytes } from 'node:crypto';
import { composeMessage, newMailOptions, parseMessage } from './imap-compose';
import { sourceStream } from './attachment-stream';

describe('sourceStream', () => {
  const file = randomBytes(10 * 1024 + 7);
  const source = () => {
    const reads: Array<[number, number]> = [];
    return {
      reads,
      size: file.length,
      read: (start: number, end: number) => {
        reads.push([start, end]);
        return Promise.resolve(file.subarray(start, end));
      },
    };
  };

  it('gives the bytes in order, read a range at a time', async () => {
    const s = source();
    const chunks: Buffer[] = [];
    for await (const c of sourceStream(s, 4096)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(file)).toBe(true);
    expect(s.reads).toEqual([
      [0, 4096],
      [4096, 8192],
      [8192, file.length],
    ]);
  });

  it('a source that gives fewer bytes than asked fails the stream', async () => {
    const short = { size: 100, read: () => Promise.resolve(Buffer.alloc(10)) };
    await expect(async () => {
      for await (const _ of sourceStream(short, 50)) void _;
    }).rejects.toThrow('gave 10 bytes for 0-49');
  });

  it('a composed mail carries a source attachment byte for byte', async () => {
    const composed = await composeMessage(
      newMailOptions('me@example.test', {
        subject: 'big',
        body: { contentType: 'text', content: 'see attached' },
        toRecipients: [{ address: 'you@example.test' }],
        ccRecipients: [],
        bccRecipients: [],
        attachments: [{ name: 'big.bin', contentType: 'application/octet-stream', content: source() }],
      }),
    );
    const parsed = await parseMessage(composed.raw);
    expect(parsed.attachments.map((a) => a.filename)).toEqual(['big.bin']);
    expect(parsed.attachments[0].content.equals(file)).toBe(true);
  });
});
