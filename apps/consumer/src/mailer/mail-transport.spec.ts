import { randomBytes, randomUUID } from 'node:crypto';
import { createTransport } from 'nodemailer';
import type { ConsumerConfig, MailConfig } from '@email-core/config';
import { systemMailCodeAad, type SystemMail } from '@email-core/contracts';
import { TokenCipher } from '@email-core/crypto';
import { smtpOptions, type MailTransport } from './mail-transport';
import { SendSystemMailCommand } from './send-system-mail/send-system-mail.command';
import { SendSystemMailHandler } from './send-system-mail/send-system-mail.handler';

const base: MailConfig = {
  smtpUrl: 'smtp://127.0.0.1:2587',
  from: 'Email Core <no-reply@email-core.localhost>',
  messageIdDomain: 'email-core.localhost',
};

describe('smtpOptions', () => {
  it('submission with credentials: STARTTLS required, credentials decoded, no SNI for an IP, the extra CA', () => {
    const o = smtpOptions({
      ...base,
      smtpUrl: 'smtp://no-reply%40email-core.localhost:p%40ss%3Aw@127.0.0.1:2587',
      extraCa: { file: 'ca.pem', pem: 'PEM' },
    });
    expect(o).toMatchObject({
      host: '127.0.0.1',
      port: 2587,
      secure: false,
      requireTLS: true,
      auth: { user: 'no-reply@email-core.localhost', pass: 'p@ss:w' },
      tls: { ca: 'PEM' },
    });
    expect(o.tls).not.toHaveProperty('servername');
  });

  it('plain SMTP without credentials: opportunistic STARTTLS only; smtps: TLS from the start on 465', () => {
    const plain = smtpOptions({ ...base, smtpUrl: 'smtp://mail.example.test:2525' });
    expect(plain).toMatchObject({
      port: 2525,
      secure: false,
      requireTLS: false,
      tls: { servername: 'mail.example.test' },
    });
    expect(plain).not.toHaveProperty('auth');
    expect(smtpOptions({ ...base, smtpUrl: 'smtps://mail.example.test' })).toMatchObject({
      port: 465,
      secure: true,
    });
  });
});

describe('the mailer through a nodemailer stream transport', () => {
  it("writes a multipart text + HTML mail with the outbox row's Message-ID, the code only in the body", async () => {
    const cipher = new TokenCipher([{ id: 'k1', key: randomBytes(32) }]);
    const raw: string[] = [];
    const stream = createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
    const transport: MailTransport = {
      sendMail: async (mail) => {
        const info = await stream.sendMail(mail);
        raw.push((info.message as Buffer).toString('utf8'));
        return { accepted: info.envelope.to, rejected: [] };
      },
      close: () => stream.close(),
    };
    const handler = new SendSystemMailHandler({ mail: base } as ConsumerConfig, transport, cipher);
    const mailId = randomUUID();
    const message: SystemMail = {
      type: 'system.mail',
      v: 1,
      mailId,
      template: 'verify-email',
      to: 'grace@example.test',
      sealedCode: cipher.seal('090807', systemMailCodeAad(mailId)),
      validMinutes: 1440,
      requestedAt: new Date().toISOString(),
    };
    await handler.execute(new SendSystemMailCommand(message));
    await handler.execute(new SendSystemMailCommand(message));
    expect(raw).toHaveLength(2);
    const [first, second] = raw;
    const headers = first.slice(0, first.indexOf('\n\n'));
    expect(headers).toContain(`Message-ID: <${mailId}@email-core.localhost>`);
    expect(second).toContain(`Message-ID: <${mailId}@email-core.localhost>`);
    expect(headers).toContain('From: Email Core <no-reply@email-core.localhost>');
    expect(headers).toContain('To: grace@example.test');
    expect(headers).toContain('Subject: Verify your Email Core address');
    expect(headers).toMatch(/Content-Type: multipart\/alternative/);
    expect(headers).not.toContain('090807');
    expect(first).toMatch(/Content-Type: text\/plain/);
    expect(first).toMatch(/Content-Type: text\/html/);
    expect(first).toContain('    090807');
  });
});
