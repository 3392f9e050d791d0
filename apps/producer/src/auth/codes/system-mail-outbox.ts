import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { TokenCipher } from '@email-core/crypto';
import {
  systemMailCodeAad,
  systemMailSchema,
  Topics,
  type SystemMail,
  type SystemMailTemplate,
} from '@email-core/contracts';
import { OutboxRepository } from '@email-core/database';
import { OutboxSignal } from '../../outbox/outbox-signal';

/**
 * Asks the mailer to send a system mail, through the outbox: `add` inside the transaction of the state that needs
 * the mail (both commit or neither does), `committed` after it, to wake the relay. The code is sealed with the
 * token-encryption keys, bound to the mail's id, so no topic or log ever holds it in plain text.
 */
@Injectable()
export class SystemMailOutbox {
  constructor(
    private readonly outbox: OutboxRepository,
    private readonly signal: OutboxSignal,
    private readonly cipher: TokenCipher,
  ) {}

  async add(
    manager: EntityManager,
    mail: { template: SystemMailTemplate; to: string; code: string; validSeconds: number },
  ): Promise<SystemMail> {
    const mailId = randomUUID();
    const message = systemMailSchema.parse({
      type: 'system.mail',
      v: 1,
      mailId,
      template: mail.template,
      to: mail.to,
      sealedCode: this.cipher.seal(mail.code, systemMailCodeAad(mailId)),
      validMinutes: Math.max(1, Math.round(mail.validSeconds / 60)),
      requestedAt: new Date().toISOString(),
    } satisfies SystemMail);
    await this.outbox.append(manager, [
      { topic: Topics.systemMail, key: mailId, type: message.type, payload: message },
    ]);
    return message;
  }

  committed(): void {
    this.signal.notify();
  }
}
