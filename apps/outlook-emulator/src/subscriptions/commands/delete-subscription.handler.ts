import { Injectable } from '@nestjs/common';
import type { Caller } from '../domain/subscription';
import { SubscriptionRepository } from '../domain/subscription.repository';
import { subscriptionNotFound } from '../domain/subscription-errors';

/** `DELETE /subscriptions/{id}`: deliveries stop at once, queued retries included */
@Injectable()
export class DeleteSubscriptionHandler {
  constructor(private readonly repo: SubscriptionRepository) {}

  execute(caller: Caller, id: string): void {
    if (!this.repo.findOwned(caller, id, Date.now())) throw subscriptionNotFound();
    this.repo.remove(id);
  }
}
