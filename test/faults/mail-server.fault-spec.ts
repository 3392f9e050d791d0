/**
 * The stack's mail server under a real Postfix outage: this checkout's Postfix is stopped (`postfix stop`, Dovecot
 * keeps running), SMTP refuses connections, Postfix starts again and takes and delivers mail as before. Runs in the
 * fault suite, alone, since every other test shares the mail server. Needs the mail server started by this
 * checkout (`npm run stack:up`); refuses to pass without its fault otherwise.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { parseMailEndpoint, startOwnPostfix, stopOwnPostfix } from '@email-core/stack/mail-server';
import {
  devMailServer,
  recordScenario,
  requestCodesThroughOutage,
  startProduct,
  systemMailEnv,
  watchSystemMailFailures,
} from '@email-core/testing';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (libs/testing's global setup sets it)`);
  return v;
};

describe('mail server: Postfix stopped and started', () => {
  it('refuses SMTP while stopped, then accepts and delivers again', async () => {
    const smtp = parseMailEndpoint(env('MAIL_SMTP'));
    const imaps = parseMailEndpoint(env('MAIL_IMAPS'));
    const id = randomBytes(4).toString('hex');
    const user = `outage-${id}@outage-domain.test`;
    const send = async (subject: string) => {
      const transport = nodemailer.createTransport({
        host: smtp.host,
        port: smtp.port,
        ignoreTLS: true,
        connectionTimeout: 3000,
      });
      try {
        return await transport.sendMail({
          from: `fault-${id}@sender.test`,
          to: user,
          subject,
          text: subject,
        });
      } finally {
        transport.close();
      }
    };

    const stoppedPid = await stopOwnPostfix();
    try {
      await expect(send('refused')).rejects.toThrow(/ECONNREFUSED|connect/i);
    } finally {
      expect(await startOwnPostfix()).not.toBe(stoppedPid);
    }
    await send(`after restart ${id}`);

    const client = new ImapFlow({
      host: imaps.host,
      port: imaps.port,
      secure: true,
      auth: { user, pass: env('DEV_MAIL_PASSWORD') },
      tls: { ca: [fs.readFileSync(env('MAIL_CA_FILE'), 'utf8')] },
      logger: false,
    });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const deadline = Date.now() + 20_000;
      const subjects: string[] = [];
      while (subjects.length === 0 && Date.now() < deadline) {
        const box = await client.mailboxOpen('INBOX');
        if (box.exists > 0) {
          for await (const m of client.fetch('1:*', { envelope: true }))
            subjects.push(m.envelope?.subject ?? '');
        }
        if (subjects.length === 0) await new Promise((r) => setTimeout(r, 250));
      }
      expect(subjects).toEqual([`after restart ${id}`]);
    } finally {
      await client.logout();
      client.close();
    }
  });

  it('sign-in codes requested while Postfix is stopped all arrive once it starts, one Message-ID each; none dead-lettered', async () => {
    const mail = devMailServer();
    if (!mail) throw new Error('no dev mail server: run `npm run stack:up`');
    const product = await startProduct({
      isolated: true,
      appEnv: {
        ...systemMailEnv(mail),
        SIGN_IN_CODE_REQUESTS_PER_IP: '1000',
        // a budget of about 25 s before a dead letter: Postfix stays down for 8 s
        KAFKA_RETRY_BACKOFF_MS: '1000,2000,4000,6000',
        KAFKA_RETRY_MAX_ATTEMPTS: '7',
      },
    });
    const failures = await watchSystemMailFailures('mail-server-fault', product);
    try {
      const started = Date.now();
      const outcome = await requestCodesThroughOutage({
        api: product.api,
        mail,
        failures,
        down: () => stopOwnPostfix(),
        up: () => startOwnPostfix(),
      });
      for (const one of outcome.perAddress) {
        expect(one.messageIds).toBe(1);
        expect(one.code).toMatch(/^\d{6}$/);
      }
      expect(outcome.distinctMessageIds).toBe(outcome.perAddress.length);
      expect(outcome.failed).toBeGreaterThanOrEqual(outcome.perAddress.length);
      expect(outcome.deadLettered).toBe(0);
      expect(outcome.leaks).toBe(0);
      recordScenario({
        scenario: 'Postfix stopped while sign-in codes are requested',
        file: __filename,
        faults: [
          `postfix stop before ${outcome.perAddress.length} code requests, started again 8 s after every send had failed`,
        ],
        compared: {
          requests: outcome.perAddress.length,
          mailsArrived: outcome.perAddress.filter((a) => a.mails >= 1).length,
          distinctMessageIds: outcome.distinctMessageIds,
          failedSends: outcome.failed,
          deadLetters: outcome.deadLettered,
        },
        durationMs: Date.now() - started,
      });
    } finally {
      await failures.stop();
      await product.stop();
    }
  }, 240_000);
});
