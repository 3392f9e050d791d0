import { Injectable } from '@nestjs/common';
import type { CommandStatus } from '@email-core/contracts';
import type { MailCommandView } from '@email-core/database';
import { DomainEventsPublisher } from '../messaging/domain-events.publisher';

/** `command.status` events (to the owner's sockets, through the events topic), one per status a command takes. */
@Injectable()
export class CommandStatusEvents {
  constructor(private readonly events: DomainEventsPublisher) {}

  /** Call after the status committed. */
  async announce(userId: string, command: MailCommandView): Promise<void> {
    await this.events.publish(statusEvent(userId, command));
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
    at: command.updatedAt,
  };
}
