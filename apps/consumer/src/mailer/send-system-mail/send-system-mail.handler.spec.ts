import { Logger } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import type { ConsumerConfig } from '@email-core/config';
import { systemMailCodeAad, systemMailSchema, type SystemMail } from '@email-core/contracts';
import { TokenCipher } from '@email-core/crypto';
import type { MailTransport, OutgoingSystemMail } from '../mail-transport';
import { SendSystemMailCommand } from './send-system-mail.command';
import { SendSystemMailHandler, systemMailMessageId } from './send-system-mail.handler';

describe('SendSystemMailHandler', () => {
  const cipher = new TokenCipher([{ id: 'k1', key: randomBytes(32) }]);
  const config = {
    mail: { from: 'Email Core <no-reply@example.test>', messageIdDomain: 'example.test' },
  } as ConsumerConfig;

  function mail(code = '314159'): SystemMail {
    const mailId = randomUUID();
    return systemMailSchema.parse({
      type: 'system.mail',
      v: 1,
      mailId,
      template: 'sign-in-code',
      to: 'ada@example.com',
      sealedCode: cipher.seal(code, systemMailCodeAad(mailId)),
      validMinutes: 10,
      requestedAt: new Date().toISOString(),
    });
  }

  function setup(answer: { accepted: unknown[]; rejected: unknown[] } = { accepted: ['x'], rejected: [] }) {
    const sent: OutgoingSystemMail[] = [];
    const transport: MailTransport = {
      sendMail: (m) => {
        sent.push(m);
        return Promise.resolve(answer);
      },
      close: () => undefined,
    };
    return { sent, handler: new SendSystemMailHandler(config, transport, cipher) };
  }

  it('opens the sealed code, renders it and sends with the stable Message-ID of the mail', async () => {
    const { sent, handler } = setup();
    const m = mail();
    await handler.execute(new SendSystemMailCommand(m));
    await handler.execute(new SendSystemMailCommand(m));
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatchObject({
      from: 'Email Core <no-reply@example.test>',
      to: 'ada@example.com',
      subject: 'Your Email Core sign-in code',
      messageId: `<${m.mailId}@example.test>`,
    });
    // a redelivery sends the same Message-ID
    expect(sent[1]?.messageId).toBe(sent[0]?.messageId);
    expect(sent[0]?.text).toContain('314159');
    expect(sent[0]?.html).toContain('314159');
    expect(systemMailMessageId('id', 'd')).toBe('<id@d>');
  });

  it('the message in Kafka holds no code in plain text', () => {
    const m = mail('271828');
    expect(JSON.stringify(m)).not.toContain('271828');
  });

  it('fails (so the runner retries) when the server refuses, or a sealed code belongs to another mail', async () => {
    await expect(
      setup({ accepted: [], rejected: ['ada@example.com'] }).handler.execute(
        new SendSystemMailCommand(mail()),
      ),
    ).rejects.toThrow(/refused/);
    const other = mail();
    const moved = { ...mail(), sealedCode: other.sealedCode };
    await expect(setup().handler.execute(new SendSystemMailCommand(moved))).rejects.toThrow();
  });

  it('logs the mail id and template, never the code or the address', async () => {
    const logged: string[] = [];
    const spy = jest.spyOn(Logger.prototype, 'log').mockImplementation((message: unknown) => {
      logged.push(String(message));
    });
    try {
      const m = mail('161803');
      await setup().handler.execute(new SendSystemMailCommand(m));
      expect(logged.join('\n')).toContain(m.mailId);
      expect(logged.join('\n')).not.toContain('161803');
      expect(logged.join('\n')).not.toContain('ada@example.com');
    } finally {
      spy.mockRestore();
    }
  });
});
