import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  mailCommandQueuedSchema,
  Topics,
  type MailCommandAction,
  type MailCommandQueued,
} from '@email-core/contracts';
import { OutboxRepository } from '@email-core/database';
import { OutboxSignal } from '../outbox/outbox-signal';

/**
 * Hands a stored command to the workers through the outbox: `add` inside the transaction that stores the
 * command (both commit or neither does), `committed` after it, to wake the relay at once. The message names the
 * command only; the worker loads it (and its attachments) from Postgres.
 */
@Injectable()
export class MailCommandOutbox {
  constructor(
    private readonly outbox: OutboxRepository,
    private readonly signal: OutboxSignal,
  ) {}

  async add(
    manager: EntityManager,
    command: { id: string; accountId: string; action: MailCommandAction },
  ): Promise<MailCommandQueued> {
    const message = mailCommandQueuedSchema.parse({
      type: 'mail.command',
      v: 1,
      commandId: command.id,
      accountId: command.accountId,
      action: command.action,
      queuedAt: new Date().toISOString(),
    } satisfies MailCommandQueued);
    // keyed by account: one mailbox's commands run in the order they were accepted
    await this.outbox.append(manager, [
      { topic: Topics.mailCommands, key: command.accountId, type: message.type, payload: message },
    ]);
    return message;
  }

  committed(): void {
    this.signal.notify();
  }
}
