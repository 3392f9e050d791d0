import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { ImapFlow } from 'imapflow';
import { MetricsRegistry, ProviderMetrics, parseExposition, sumOf } from '@email-core/metrics';
import {
  IMAP_REQUEST_STATUSES,
  SMTP_REQUEST_STATUSES,
  countedImapClient,
  imapRequestStatus,
  mailRequestCounters,
  smtpRequestStatus,
  type ImapRequestStatus,
} from './imap-request-metrics';
import { openImapSession } from './imap-connection';
import type { HostPolicy, MailServerSettings } from './imap-settings';
import { sendRawMail } from './imap-smtp';

const failure = (props: Record<string, unknown>): Error => Object.assign(new Error('Command failed'), props);

describe('imapRequestStatus', () => {
  it('maps the server answer or the failure to one of a fixed set of labels', () => {
    // imapflow's refused LOGIN/AUTHENTICATE: authenticationFailed, Dovecot's [AUTHENTICATIONFAILED]
    expect(
      imapRequestStatus(
        failure({
          authenticationFailed: true,
          responseStatus: 'NO',
          serverResponseCode: 'AUTHENTICATIONFAILED',
        }),
      ),
    ).toBe('auth_failed');
    expect(
      imapRequestStatus(failure({ responseStatus: 'NO', serverResponseCode: 'authenticationfailed' })),
    ).toBe('auth_failed');
    // tagged refusals
    expect(imapRequestStatus(failure({ responseStatus: 'NO', serverResponseCode: 'NONEXISTENT' }))).toBe(
      'no',
    );
    expect(imapRequestStatus(failure({ responseStatus: 'NO' }))).toBe('no');
    expect(imapRequestStatus(failure({ responseStatus: 'BAD', responseText: 'syntax' }))).toBe('bad');
    // Office 365's throttling is a BAD imapflow codes ETHROTTLE
    expect(imapRequestStatus(failure({ responseStatus: 'BAD', code: 'ETHROTTLE' }))).toBe('bad');
    // imapflow's and node's timeouts
    for (const code of ['CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT', 'ETIMEOUT', 'ETIMEDOUT']) {
      expect(imapRequestStatus(failure({ code }))).toBe('timeout');
    }
    // network, TLS, DNS, a dropped connection, anything else
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'NoConnection', 'EConnectionClosed', 'ENOTFOUND']) {
      expect(imapRequestStatus(failure({ code }))).toBe('error');
    }
    expect(imapRequestStatus(failure({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' }))).toBe('error');
    expect(imapRequestStatus(new Error('boom'))).toBe('error');
    expect(imapRequestStatus('not an error')).toBe('error');
    expect(imapRequestStatus(null)).toBe('error');
  });
});

describe('smtpRequestStatus', () => {
  it("labels a send by the server answer's class, error without an answer", () => {
    expect(smtpRequestStatus(failure({ code: 'EENVELOPE', responseCode: 451, command: 'RCPT TO' }))).toBe(
      '4xx',
    );
    expect(smtpRequestStatus(failure({ code: 'EMESSAGE', responseCode: 552, command: 'DATA' }))).toBe('5xx');
    expect(smtpRequestStatus(failure({ code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN' }))).toBe(
      '5xx',
    );
    expect(smtpRequestStatus(failure({ code: 'ECONNECTION', command: 'CONN' }))).toBe('error');
    expect(smtpRequestStatus(failure({ code: 'ETIMEDOUT', command: 'CONN' }))).toBe('error');
    expect(smtpRequestStatus(failure({ code: 'ETLS' }))).toBe('error');
    expect(smtpRequestStatus(failure({ responseCode: 250 }))).toBe('error');
    expect(smtpRequestStatus(undefined)).toBe('error');
  });
});

/** A stand-in for imapflow's client: `fetchAll` reads its own `fetch`, as imapflow's does. */
class FakeClient {
  mailbox = { path: 'INBOX' };
  usable = true;
  async list(): Promise<string[]> {
    return Promise.resolve(['INBOX']);
  }
  async messageFlagsAdd(range: string): Promise<boolean> {
    return Promise.resolve(range !== 'refused');
  }
  async mailboxOpen(path: string): Promise<{ path: string }> {
    if (path === 'missing') throw failure({ responseStatus: 'NO', serverResponseCode: 'NONEXISTENT' });
    if (path === 'slow') throw failure({ code: 'ETIMEOUT' });
    return Promise.resolve({ path });
  }
  async *fetch(range: string): AsyncGenerator<{ uid: number }> {
    yield await Promise.resolve({ uid: 1 });
    yield { uid: 2 };
    if (range === 'drop') throw failure({ code: 'EConnectionClosed' });
    yield { uid: 3 };
  }
  async fetchAll(range: string): Promise<{ uid: number }[]> {
    const all: { uid: number }[] = [];
    for await (const m of this.fetch(range)) all.push(m);
    return all;
  }
  async logout(): Promise<void> {
    return Promise.resolve();
  }
}

describe('countedImapClient', () => {
  const setup = () => {
    const counts: ImapRequestStatus[] = [];
    const client = countedImapClient(new FakeClient() as unknown as ImapFlow, (s) => counts.push(s));
    return { client, counts };
  };

  it('counts each operation once by its outcome, false where imapflow answers a refusal with it', async () => {
    const { client, counts } = setup();
    await client.list();
    await client.messageFlagsAdd('1', ['\\Seen']);
    await client.messageFlagsAdd('refused', ['\\Seen']);
    await expect(client.mailboxOpen('missing')).rejects.toMatchObject({ responseStatus: 'NO' });
    await expect(client.mailboxOpen('slow')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(counts).toEqual(['ok', 'ok', 'no', 'no', 'timeout']);
  });

  it('counts a fetch once (not per message), its internal use by fetchAll not again, and not LOGOUT', async () => {
    const { client, counts } = setup();
    const uids: number[] = [];
    for await (const m of client.fetch('1:*', { uid: true })) uids.push(m.uid);
    expect(uids).toEqual([1, 2, 3]);
    expect(counts).toEqual(['ok']);
    // left early: still one operation, ok
    for await (const m of client.fetch('1:*', { uid: true })) if (m.uid === 1) break;
    expect(counts).toEqual(['ok', 'ok']);
    await expect(
      (async () => {
        for await (const m of client.fetch('drop', { uid: true })) uids.push(m.uid);
      })(),
    ).rejects.toMatchObject({ code: 'EConnectionClosed' });
    expect(counts).toEqual(['ok', 'ok', 'error']);
    expect(await client.fetchAll('1:*', { uid: true })).toHaveLength(3);
    await client.logout();
    expect(counts).toEqual(['ok', 'ok', 'error', 'ok']);
  });

  it("leaves the client's properties as they are", () => {
    const { client, counts } = setup();
    expect(client.mailbox).toEqual({ path: 'INBOX' });
    expect(client.usable).toBe(true);
    expect(client.fetch).toBe(client.fetch);
    expect(counts).toEqual([]);
  });
});

describe('mailRequestCounters', () => {
  it('counts in email_core_provider_requests_total, every imap and smtp series present at 0 first', async () => {
    const registry = new MetricsRegistry({ defaultMetrics: false });
    const counters = mailRequestCounters(new ProviderMetrics(registry));
    let samples = parseExposition(await registry.metrics());
    const name = 'email_core_provider_requests_total';
    for (const status of IMAP_REQUEST_STATUSES) {
      expect(samples).toContainEqual({ name, labels: { provider: 'imap', status }, value: 0 });
    }
    for (const status of SMTP_REQUEST_STATUSES) {
      expect(samples).toContainEqual({ name, labels: { provider: 'smtp', status }, value: 0 });
    }
    counters.imap('ok');
    counters.imap('ok');
    counters.imap('auth_failed');
    counters.smtp('ok');
    counters.smtp('5xx');
    samples = parseExposition(await registry.metrics());
    expect(sumOf(samples, name, { provider: 'imap', status: 'ok' })).toBe(2);
    expect(sumOf(samples, name, { provider: 'imap', status: 'auth_failed' })).toBe(1);
    expect(sumOf(samples, name, { provider: 'smtp', status: 'ok' })).toBe(1);
    expect(sumOf(samples, name, { provider: 'smtp', status: '5xx' })).toBe(1);
    expect(samples.filter((s) => s.name === name)).toHaveLength(
      IMAP_REQUEST_STATUSES.length + SMTP_REQUEST_STATUSES.length,
    );
  });
});

// ---- against sockets of this test: what a real connection attempt and a real send count ----

/** A TCP server on 127.0.0.1 answering each line with `answer` (null: say nothing); `greeting` first. */
async function lineServer(
  greeting: string | null,
  answer: (line: string) => string | null,
): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (greeting !== null) socket.write(greeting);
    let buffered = '';
    let inData = false;
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      let nl: number;
      while ((nl = buffered.indexOf('\r\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            socket.write(answer('.') ?? '');
          }
          continue;
        }
        const reply = answer(line);
        if (reply?.startsWith('354')) inData = true;
        if (reply) socket.write(reply);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const local = (port: number): MailServerSettings => ({
  host: '127.0.0.1',
  port,
  security: 'none',
  username: 'me@example.test',
  password: 'not-the-password',
});
const LOCAL: HostPolicy = { allowPrivateHosts: true };

/** a closed port on 127.0.0.1 */
async function closedPort(): Promise<number> {
  const s = await lineServer(null, () => null);
  await s.close();
  return s.port;
}

describe('openImapSession counts its connection attempt', () => {
  const attempt = async (port: number, connectTimeoutMs = 5_000) => {
    const counts: ImapRequestStatus[] = [];
    const result = await openImapSession(local(port), LOCAL, {
      connectTimeoutMs,
      requests: (s) => counts.push(s),
    }).then(
      async (client) => {
        await client.logout().catch(() => client.close());
        return 'connected';
      },
      (err: Error) => err.name,
    );
    return { result, counts };
  };

  it('a refused login is auth_failed (ReauthRequiredError), counted once', async () => {
    const server = await lineServer('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n', (line) => {
      const [tag, command] = line.split(' ');
      if (command?.toUpperCase() === 'CAPABILITY')
        return `* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n${tag} OK done\r\n`;
      if (command?.toUpperCase() === 'LOGOUT') return `* BYE\r\n${tag} OK bye\r\n`;
      return `${tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n`;
    });
    try {
      expect(await attempt(server.port)).toEqual({ result: 'ReauthRequiredError', counts: ['auth_failed'] });
    } finally {
      await server.close();
    }
  });

  it('a login taken is ok, then each operation on the session once: ok, or the refusal', async () => {
    const server = await lineServer('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n', (line) => {
      const [tag, command] = line.split(' ');
      switch (command?.toUpperCase()) {
        case 'CAPABILITY':
          return `* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n${tag} OK done\r\n`;
        case 'LIST':
          return `* LIST (\\HasNoChildren) "/" INBOX\r\n${tag} OK done\r\n`;
        case 'SELECT':
          return `${tag} NO [NONEXISTENT] no such mailbox\r\n`;
        case 'LOGOUT':
          return `* BYE\r\n${tag} OK bye\r\n`;
        default:
          return `${tag} OK done\r\n`;
      }
    });
    const counts: ImapRequestStatus[] = [];
    try {
      const client = await openImapSession(local(server.port), LOCAL, { requests: (s) => counts.push(s) });
      expect(counts).toEqual(['ok']);
      expect((await client.list()).map((f) => f.path)).toEqual(['INBOX']);
      await expect(client.mailboxOpen('Nope')).rejects.toMatchObject({ responseStatus: 'NO' });
      await client.logout();
      expect(counts).toEqual(['ok', 'ok', 'no']);
    } finally {
      await server.close();
    }
  });

  it('no greeting in time is a timeout; a closed port an error', async () => {
    const silent = await lineServer(null, () => null);
    try {
      expect(await attempt(silent.port, 300)).toEqual({
        result: 'ProviderUnavailableError',
        counts: ['timeout'],
      });
    } finally {
      await silent.close();
    }
    expect(await attempt(await closedPort())).toEqual({
      result: 'ProviderUnavailableError',
      counts: ['error'],
    });
  });
});

describe('sendRawMail counts each send', () => {
  /** an SMTP server answering MAIL FROM with `mailFrom` (and everything else as a server taking the mail) */
  const smtpServer = (mailFrom: string) =>
    lineServer('220 test ESMTP\r\n', (line) => {
      const command = line.toUpperCase();
      if (command === '.') return '250 2.0.0 queued\r\n';
      if (command.startsWith('EHLO')) return '250-test\r\n250 AUTH PLAIN\r\n';
      if (command.startsWith('AUTH')) return '235 2.7.0 ok\r\n';
      if (command.startsWith('MAIL FROM')) return `${mailFrom}\r\n`;
      if (command.startsWith('RCPT TO')) return '250 2.1.5 ok\r\n';
      if (command === 'DATA') return '354 go on\r\n';
      if (command === 'QUIT') return '221 bye\r\n';
      return '502 5.5.2 what\r\n';
    });

  const send = async (port: number) => {
    const counts: string[] = [];
    const result = await sendRawMail(
      local(port),
      LOCAL,
      { from: 'me@example.test', to: ['you@example.test'] },
      Buffer.from('Subject: hi\r\n\r\nhello\r\n'),
      { requests: (s) => counts.push(s), timeouts: { connectMs: 2_000, socketMs: 2_000 } },
    ).then(
      () => 'sent',
      (err: Error & { code?: string }) => `${err.name} ${err.code ?? ''}`,
    );
    return { result, counts };
  };

  it('ok, 4xx, 5xx by the server answer; error without one', async () => {
    for (const [answer, result, status] of [
      ['250 2.1.0 ok', 'sent', 'ok'],
      ['451 4.3.0 try later', 'ProviderUnavailableError SMTP_451', '4xx'],
      ['550 5.7.1 not you', 'ProviderRefusedError SMTP_550', '5xx'],
    ]) {
      const server = await smtpServer(answer);
      try {
        expect(await send(server.port)).toEqual({ result, counts: [status] });
      } finally {
        await server.close();
      }
    }
    expect(await send(await closedPort())).toEqual({
      result: 'ProviderUnavailableError ESOCKET',
      counts: ['error'],
    });
  });
});
