import { Injectable } from '@nestjs/common';
import { toSummary, type Caller, type Subscription, type SubscriptionSummary } from '../domain/subscription';
import { SubscriptionRepository } from '../domain/subscription.repository';
import { subscriptionNotFound } from '../domain/subscription-errors';

/** `GET /subscriptions`, `GET /subscriptions/{id}` (the calling app's, unexpired) and the admin overview */
@Injectable()
export class ListSubscriptionsQueryHandler {
  constructor(private readonly repo: SubscriptionRepository) {}

  listOwned(caller: Caller): Subscription[] {
    return this.repo.listOwned(caller, Date.now());
  }

  getOwned(caller: Caller, id: string): Subscription {
    const sub = this.repo.findOwned(caller, id, Date.now());
    if (!sub) throw subscriptionNotFound();
    return sub;
  }

  /** every subscription the emulator holds, expired ones included until they are purged */
  summaries(): SubscriptionSummary[] {
    const now = Date.now();
    return this.repo.all().map((s) => toSummary(s, now));
  }
}
