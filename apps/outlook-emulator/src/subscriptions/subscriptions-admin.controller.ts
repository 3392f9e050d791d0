import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { AdminError } from '../admin/admin-error';
import { AdminApiGuard } from '../http/admin-api.guard';
import type { LifecycleResult } from './commands/fire-lifecycle.handler';
import { LIFECYCLE_EVENTS, type LifecycleEvent, type SubscriptionSummary } from './domain/subscription';
import { NotificationSender } from './delivery/notification-sender';
import { SubscriptionsService } from './subscriptions.service';

/** `GET /_emulator/subscriptions`, `GET /_emulator/subscriptions/deliveries` and `POST /_emulator/subscriptions/{id}/lifecycle {event}` (loopback only) */
@Controller('_emulator/subscriptions')
@UseGuards(AdminApiGuard)
export class SubscriptionsAdminController {
  constructor(
    private readonly subscriptions: SubscriptionsService,
    private readonly sender: NotificationSender,
  ) {}

  @Get()
  list(): { value: SubscriptionSummary[] } {
    return { value: this.subscriptions.list() };
  }

  /** `{outstanding}`: notification deliveries still collecting, held back, awaiting a retry or in flight */
  @Get('deliveries')
  deliveries(): { outstanding: number } {
    return { outstanding: this.sender.outstanding() };
  }

  @Post(':id/lifecycle')
  @HttpCode(202)
  fireLifecycle(@Param('id') id: string, @Body() body: unknown): LifecycleResult {
    const event = (body as { event?: unknown } | undefined)?.event;
    if (!LIFECYCLE_EVENTS.includes(event as LifecycleEvent)) {
      throw new AdminError(400, 'invalid_request', `event must be one of ${LIFECYCLE_EVENTS.join(', ')}`);
    }
    return this.subscriptions.fireLifecycleOrFail(id, event as LifecycleEvent);
  }
}
