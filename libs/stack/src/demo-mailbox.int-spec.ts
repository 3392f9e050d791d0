/**
 * The demo mailbox filler against the stack's real mail server: a fresh address gets every folder and message
 * (counted over its own IMAP session), and a second call adds nothing.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { ImapFlow } from 'imapflow';
import { DEMO_FOLDERS, DEMO_MESSAGE_COUNT, fillDemoMailbox, type DemoMailboxTarget } from './demo-mailbox';
import { parseMailEndpoint } from './mail-server';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (libs/testing's global setup sets it)`);
  return v;
};

const target: DemoMailboxTarget = {
  endpoint: env('MAIL_IMAPS'),
  security: 'tls',
  address: `demo-${randomBytes(4).toString('hex')}@email-core.localhost`,
  password: env('DEV_MAIL_PASSWORD'),
  ca: [fs.readFileSync(env('MAIL_CA_FILE'), 'utf8')],
};

/** messages per folder path, read over a session of the test's own (STARTTLS this time) */
async function folderCounts(): Promise<Record<string, number>> {
  const { host, port } = parseMailEndpoint(env('MAIL_IMAP'));
  const client = new ImapFlow({
    host,
    port,
    secure: false,
    doSTARTTLS: true,
    auth: { user: target.address, pass: target.password },
    tls: { ca: target.ca },
    logger: false,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const counts: Record<string, number> = {};
    for (const box of await client.list({ statusQuery: { messages: true } })) {
      counts[box.path] = box.status?.messages ?? 0;
    }
    return counts;
  } finally {
    await client.logout().catch(() => client.close());
  }
}

describe('fillDemoMailbox (stack mail server)', () => {
  it('fills a fresh mailbox once: every folder with its count; a second call adds nothing', async () => {
    const first = await fillDemoMailbox(target, { now: new Date('2026-12-01T12:00:00Z') });
    expect(first).toMatchObject({ filled: true, appended: DEMO_MESSAGE_COUNT, total: DEMO_MESSAGE_COUNT });
    expect(first.folders).toEqual(
      expect.arrayContaining(['INBOX', 'INBOX/Projects', 'INBOX/Projects/2026', 'Archive', 'Sent']),
    );

    const counts = await folderCounts();
    for (const f of DEMO_FOLDERS)
      expect([f.path.join('/'), counts[f.path.join('/')]]).toEqual([f.path.join('/'), f.messages]);

    const second = await fillDemoMailbox(target);
    expect(second).toMatchObject({ filled: false, appended: 0, total: DEMO_MESSAGE_COUNT });
    expect(await folderCounts()).toEqual(counts);
  }, 120_000);
});
