import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { FireLifecycleHandler } from './commands/fire-lifecycle.handler';
import { isActive } from './domain/subscription';
import { SubscriptionRepository } from './domain/subscription.repository';
import { SUBSCRIPTION_SETTINGS, type SubscriptionSettings } from './subscription-settings';

/** expired subscriptions stay visible to the admin API this long, then go */
export const EXPIRED_RETENTION_MS = 60 * 60_000;
const SWEEP_INTERVAL_MS = 1000;

/**
 * Once a second: sends the automatic `reauthorizationRequired` to subscriptions that are within
 * `reauthorizeBeforeMinutes` of expiry (once per expiry), and purges long-expired subscriptions. Expiry itself
 * needs no timer: every lookup compares `expiresAt` with the clock.
 */
@Injectable()
export class ExpiryWatch implements OnModuleInit, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly repo: SubscriptionRepository,
    private readonly lifecycle: FireLifecycleHandler,
    @Inject(SUBSCRIPTION_SETTINGS) private readonly settings: SubscriptionSettings,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => this.sweep(Date.now()), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  sweep(now: number): void {
    const window = this.settings.reauthorizeBeforeMinutes * 60_000;
    for (const sub of this.repo.all()) {
      if (!isActive(sub, now)) {
        if (now - sub.expiresAt > EXPIRED_RETENTION_MS) this.repo.remove(sub.id);
      } else if (
        window > 0 &&
        !sub.reauthorizationSent &&
        sub.lifecycleNotificationUrl &&
        sub.expiresAt - now <= window
      ) {
        sub.reauthorizationSent = true;
        this.lifecycle.execute(sub.id, 'reauthorizationRequired');
      }
    }
  }
}
