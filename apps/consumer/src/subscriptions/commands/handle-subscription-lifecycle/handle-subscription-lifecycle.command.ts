import { Command } from '@nestjs/cqrs';
import type { SubscriptionLifecycle } from '@email-core/contracts';

export type LifecycleOutcome =
  /** the subscription was renewed (or, gone at Graph, recreated) */
  | 'renewed'
  /** the removed subscription was replaced and a catch-up round requested */
  | 'recreated'
  /** a catch-up round (every folder from its cursor) was requested */
  | 'caught_up'
  /** the event names a subscription the account no longer uses, or the account is gone */
  | 'ignored';

/** A lifecycle event Graph sent for an account's subscription (accepted by the webhook). */
export class HandleSubscriptionLifecycleCommand extends Command<LifecycleOutcome> {
  constructor(readonly event: SubscriptionLifecycle) {
    super();
  }
}
