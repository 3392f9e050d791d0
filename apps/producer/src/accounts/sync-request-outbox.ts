import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { syncRequestedSchema, Topics, type SyncRequested } from '@email-core/contracts';
import { OutboxRepository } from '@email-core/database';
import { OutboxSignal } from '../outbox/outbox-signal';

/**
 * Asks the workers to sync a mailbox, through the outbox: `add` inside the transaction that makes the sync
 * necessary (so both commit or neither does), `committed` after it, to wake the relay at once.
 */
@Injectable()
export class SyncRequestOutbox {
  constructor(
    private readonly outbox: OutboxRepository,
    private readonly signal: OutboxSignal,
  ) {}

  async add(
    manager: EntityManager,
    accountId: string,
    reason: SyncRequested['reason'],
  ): Promise<SyncRequested> {
    const message = syncRequestedSchema.parse({
      type: 'sync.requested',
      v: 1,
      accountId,
      reason,
      requestedAt: new Date().toISOString(),
    } satisfies SyncRequested);
    // keyed by account, so one mailbox's work stays ordered on one partition
    await this.outbox.append(manager, [
      { topic: Topics.syncRequests, key: accountId, type: message.type, payload: message },
    ]);
    return message;
  }

  committed(): void {
    this.signal.notify();
  }
}
