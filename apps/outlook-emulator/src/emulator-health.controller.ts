import { Controller, Get } from '@nestjs/common';
import { MailboxStore } from './store/mailbox-store';

/**
 * The emulator stands in for Microsoft, so it deliberately depends on none of the product's
 * infrastructure: its health is its own process and in-memory store.
 */
@Controller('_emulator')
export class EmulatorHealthController {
  private readonly startedAt = new Date();

  constructor(private readonly store: MailboxStore) {}

  @Get('health')
  health(): { status: 'ok'; startedAt: string; mailboxes: number; messages: number } {
    return {
      status: 'ok',
      startedAt: this.startedAt.toISOString(),
      mailboxes: this.store.list().length,
      messages: this.store.totalMessages(),
    };
  }
}
