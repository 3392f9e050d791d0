import { Injectable } from '@nestjs/common';
import type { CommandBatchStatus, CommandStatus } from '@email-core/contracts';
import {
  MailCommandBatchesRepository,
  type CommandBatchView,
  type MailCommandView,
} from '@email-core/database';
import { DomainEventsPublisher } from '../messaging/domain-events.publisher';

/**
 * `command.status` events (to the owner's sockets, through the events topic), one per status a command takes; for
 * a command of a batch (issue 23), then the batch's combined `command.batch.status`, counted after the command's
 * status committed. A batch's commands share its account, so one partition runs them in order and the last event
 * of a batch carries its final status.
 */
@Injectable()
export class CommandStatusEvents {
  constructor(
    private readonly events: DomainEventsPublisher,
    private readonly batches: MailCommandBatchesRepository,
  ) {}

  /** Call after the status committed. */
  async announce(userId: string, command: MailCommandView): Promise<void> {
    await this.events.publish(statusEvent(userId, command));
    const batch = await this.batches.findByCommand(command.id);
    if (batch) await this.events.publish(batchStatusEvent(batch.userId, batch));
  }
}

export function statusEvent(userId: string, command: MailCommandView): CommandStatus {
  return {
    type: 'command.status',
    v: 1,
    commandId: command.id,
    accountId: command.accountId,
    userId,
    action: command.action,
    status: command.status,
    ...(command.reasonCode ? { reasonCode: command.reasonCode.slice(0, 64) } : {}),
    ...(command.reason ? { reason: command.reason.slice(0, 500) } : {}),
    ...(command.draftId ? { draftId: command.draftId } : {}),
    at: command.updatedAt,
  };
}

export function batchStatusEvent(userId: string, batch: CommandBatchView): CommandBatchStatus {
  return {
    type: 'command.batch.status',
    v: 1,
    batchId: batch.id,
    accountId: batch.accountId,
    userId,
    action: batch.action,
    status: batch.status,
    messages: batch.messages,
    commands: batch.commands,
    counts: batch.counts,
    ...(batch.reasonCode ? { reasonCode: batch.reasonCode.slice(0, 64) } : {}),
    ...(batch.reason ? { reason: batch.reason.slice(0, 500) } : {}),
    at: batch.updatedAt,
  };
}
