import { Controller, Get } from '@nestjs/common';

/**
 * The emulator stands in for Microsoft, so it deliberately depends on none of the product's
 * infrastructure: its health is its own process and in-memory store.
 */
@Controller('_emulator')
export class EmulatorHealthController {
  private readonly startedAt = new Date();

  @Get('health')
  health(): { status: 'ok'; startedAt: string; mailboxes: number } {
    return { status: 'ok', startedAt: this.startedAt.toISOString(), mailboxes: 0 };
  }
}
