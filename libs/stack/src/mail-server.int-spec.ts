/**
 * The stack's mail server, for real: Postfix takes mail over submission (STARTTLS + AUTH with any address and
 * DEV_MAIL_PASSWORD) and over plain SMTP, for an address on any domain, and Dovecot serves it over IMAP with
 * STARTTLS and over IMAPS, trusting only the project's CA; IDLE sees a new mail arrive; CONDSTORE and QRESYNC
 * are advertised. The test runner's global setup starts (or reuses) the server and sets MAIL_* and
 * DEV_MAIL_PASSWORD.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import nodemailer from 'nodemailer';
import { parseMailEndpoint, smtpEhlo } from './mail-server';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (libs/testing's global setup sets it)`);
  return v;
};

const password = env('DEV_MAIL_PASSWORD');
const ca = fs.readFileSync(env('MAIL_CA_FILE'), 'utf8');
const submission = parseMailEndpoint(env('MAIL_SUBMISSION'));
const smtp = parseMailEndpoint(env('MAIL_SMTP'));
const imap = parseMailEndpoint(env('MAIL_IMAP'));
const imaps = parseMailEndpoint(env('MAIL_IMAPS'));

const id = randomBytes(4).toString('hex');
const sender = `sender-${id}@sender-domain.test`;
const recipient = `Rcpt-${id}@Another-Domain.example`;

function imapClient(over: 'starttls' | 'tls', user = recipient, pass = password): ImapFlow {
  const at = over === 'tls' ? imaps : imap;
  const opts: ImapFlowOptions = {
    host: at.host,
    port: at.port,
    secure: over === 'tls',
    ...(over === 'starttls' ? { doSTARTTLS: true } : {}),
    auth: { user, pass },
    tls: { ca: [ca] },
    qresync: true,
    logger: false,
  };
  const client = new ImapFlow(opts);
  client.on('error', () => undefined);
  return client;
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Subjects in the INBOX of `client`. */
async function inboxSubjects(client: ImapFlow): Promise<string[]> {
  const lock = await client.getMailboxLock('INBOX');
  try {
    // a command makes Dovecot report mail delivered since the SELECT (an INBOX selected while it was empty would
    // otherwise stay empty to imapflow, which sends no FETCH for 0 messages: seen in CI when LMTP saved the mail in
    // the second of the login)
    await client.noop();
    const subjects: string[] = [];
    for await (const m of client.fetch('1:*', { envelope: true })) subjects.push(m.envelope?.subject ?? '');
    return subjects;
  } catch {
    return []; // an empty mailbox has no 1:*
  } finally {
    lock.release();
  }
}

describe('the stack mail server (Dovecot + Postfix)', () => {
  jest.setTimeout(60_000);

  it('offers AUTH on submission only after STARTTLS, and plain SMTP without AUTH', async () => {
    const sub = await smtpEhlo(env('MAIL_SUBMISSION'));
    expect(sub).toContain('STARTTLS');
    expect(sub.some((k) => k.startsWith('AUTH'))).toBe(false);
    const plain = await smtpEhlo(env('MAIL_SMTP'));
    expect(plain.some((k) => k.startsWith('AUTH'))).toBe(false);
  });

  it('refuses a submission login with a wrong password', async () => {
    const transport = nodemailer.createTransport({
      host: submission.host,
      port: submission.port,
      secure: false,
      requireTLS: true,
      auth: { user: sender, pass: `${password}-wrong` },
      tls: { ca: [ca] },
    });
    await expect(transport.verify()).rejects.toThrow(/535|auth/i);
    transport.close();
  });

  it('delivers mail sent through submission and through SMTP to the mailbox of an address on another domain, readable over IMAP (STARTTLS) and IMAPS', async () => {
    const viaSubmission = nodemailer.createTransport({
      host: submission.host,
      port: submission.port,
      secure: false,
      requireTLS: true,
      auth: { user: sender, pass: password },
      tls: { ca: [ca] },
    });
    const sent1 = await viaSubmission.sendMail({
      from: sender,
      to: recipient,
      subject: `via submission ${id}`,
      text: 'sent over 2587 with STARTTLS and AUTH',
    });
    expect(sent1.rejected).toEqual([]);
    expect(sent1.accepted).toHaveLength(1);
    viaSubmission.close();

    const viaSmtp = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: false,
      ignoreTLS: true,
    });
    const sent2 = await viaSmtp.sendMail({
      from: 'someone@elsewhere.test',
      to: recipient,
      subject: `via smtp ${id}`,
      text: 'sent over plain SMTP 2525, no AUTH',
    });
    expect(sent2.rejected).toEqual([]);
    expect(sent2.accepted).toHaveLength(1);
    viaSmtp.close();

    const expected = [`via submission ${id}`, `via smtp ${id}`].sort();
    for (const over of ['starttls', 'tls'] as const) {
      const client = imapClient(over);
      await client.connect();
      try {
        expect(client.secureConnection || over === 'starttls').toBe(true);
        // the login name is the full address, case-insensitive
        const subjects = await waitFor(`both mails over ${over}`, async () => {
          const s = await inboxSubjects(client);
          return s.length >= 2 ? s : undefined;
        });
        expect(subjects.sort()).toEqual(expected);
      } finally {
        await client.logout();
      }
    }
  });

  it('advertises IDLE, CONDSTORE and QRESYNC, enables QRESYNC, and IDLE sees a new mail arrive', async () => {
    const user = `idle-${id}@idle-domain.test`;
    const client = imapClient('starttls', user);
    await client.connect();
    try {
      for (const cap of ['IDLE', 'CONDSTORE', 'QRESYNC']) expect(client.capabilities.has(cap)).toBe(true);
      expect(client.enabled.has('QRESYNC')).toBe(true);
      const box = await client.mailboxOpen('INBOX');
      expect(typeof box.highestModseq).toBe('bigint');
      const before = box.exists;
      const arrived = new Promise<number>((resolve) => {
        client.on('exists', (e: { count: number }) => resolve(e.count));
      });
      // IDLE now (imapflow would start it by itself after some seconds without commands)
      const idle = client.idle();
      await waitFor('imapflow to enter IDLE', () => Promise.resolve(client.idling ? true : undefined));

      const transport = nodemailer.createTransport({ host: smtp.host, port: smtp.port, ignoreTLS: true });
      await transport.sendMail({ from: sender, to: user, subject: `idle ${id}`, text: 'wake up' });
      transport.close();

      const count = await Promise.race([
        arrived,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('no EXISTS during IDLE')), 15_000),
        ),
      ]);
      expect(count).toBe(before + 1);
      expect(client.idling).toBe(true);
      await client.noop(); // ends the IDLE
      await idle;
    } finally {
      await client.logout();
      client.close(); // drop the socket at once (logout only asks the server to close it)
    }
  });

  it('refuses an IMAP login with a wrong password', async () => {
    const client = imapClient('tls', recipient, `${password}-wrong`);
    await expect(client.connect()).rejects.toThrow();
    client.close();
  });
});
