import { Injectable } from '@nestjs/common';
import type { Caller } from '../domain/subscription';
import { SubscriptionRepository } from '../domain/subscription.repository';
import { subscriptionNotFound } from '../domain/subscription-errors';

/** `POST /subscriptions/{id}/reauthorize`: answers a `reauthorizationRequired` without changing the expiry */
@Injectable()
export class ReauthorizeSubscriptionHandler {
  constructor(private readonly repo: SubscriptionRepository) {}

  execute(caller: Caller, id: string): void {
    const sub = this.repo.findOwned(caller, id, Date.now());
    if (!sub) throw subscriptionNotFound();
    sub.needsReauthorization = false;
  }
}
