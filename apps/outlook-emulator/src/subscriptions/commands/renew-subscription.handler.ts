import { Inject, Injectable } from '@nestjs/common';
import type { Caller, Subscription } from '../domain/subscription';
import { SubscriptionRepository } from '../domain/subscription.repository';
import { subscriptionNotFound } from '../domain/subscription-errors';
import { parseRenewRequest } from '../domain/subscription-rules';
import { SUBSCRIPTION_SETTINGS, type SubscriptionSettings } from '../subscription-settings';

/** `PATCH /subscriptions/{id}` `{expirationDateTime}`: a new expiry under the same cap; renewing also reauthorizes */
@Injectable()
export class RenewSubscriptionHandler {
  constructor(
    private readonly repo: SubscriptionRepository,
    @Inject(SUBSCRIPTION_SETTINGS) private readonly settings: SubscriptionSettings,
  ) {}

  execute(caller: Caller, id: string, body: unknown): Subscription {
    const now = Date.now();
    const sub = this.repo.findOwned(caller, id, now);
    if (!sub) throw subscriptionNotFound();
    sub.expiresAt = parseRenewRequest(body, now, this.settings.maxMinutes);
    sub.needsReauthorization = false;
    sub.reauthorizationSent = false;
    return sub;
  }
}
