import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { GraphSubscriptionsRepository } from '@email-core/database';
import { CatchUpRequests } from '../../catch-up-requests';
import { SubscriptionLockBusyError } from '../../subscription-errors';
import { SubscriptionKeeper } from '../../subscription-keeper';
import { SubscriptionLock } from '../../subscription-lock';
import { LOCK_WAIT_MS } from '../ensure-subscription/ensure-subscription.handler';
import {
  HandleSubscriptionLifecycleCommand,
  type LifecycleOutcome,
} from './handle-subscription-lifecycle.command';

/**
 * Graph's lifecycle events (graph-contract §4): `reauthorizationRequired` renews (recreating if Graph no longer
 * has it), `subscriptionRemoved` forgets it, creates a new one and catches up, `missed` catches up (a round of
 * every folder from its cursor: `CatchUpRequests`). An event for a subscription the account has since replaced
 * is ignored, except `missed`: notifications were lost either way.
 */
@CommandHandler(HandleSubscriptionLifecycleCommand)
export class HandleSubscriptionLifecycleHandler implements ICommandHandler<
  HandleSubscriptionLifecycleCommand,
  LifecycleOutcome
> {
  private readonly logger = new Logger('SubscriptionLifecycle');

  constructor(
    private readonly lock: SubscriptionLock,
    private readonly keeper: SubscriptionKeeper,
    private readonly subscriptions: GraphSubscriptionsRepository,
    private readonly catchUp: CatchUpRequests,
  ) {}

  async execute({ event }: HandleSubscriptionLifecycleCommand): Promise<LifecycleOutcome> {
    const { accountId, subscriptionId, lifecycleEvent } = event;
    if (lifecycleEvent === 'missed') {
      // a round is idempotent and needs no subscription lock: its delta converges on the mailbox's state
      await this.catchUp.request(accountId);
      this.logger.log(`account ${accountId}: notifications missed; catch-up round requested`);
      return 'caught_up';
    }
    const result = await this.lock.run(accountId, LOCK_WAIT_MS, async (lost) => {
      const current = await this.subscriptions.findByAccount(accountId);
      // No row: already forgotten by an earlier delivery of this very event, whose work is redone below.
      if (current && current.subscriptionId !== subscriptionId) return 'ignored' as const;
      if (lifecycleEvent === 'reauthorizationRequired') {
        const outcome = await this.keeper.ensure(accountId, { signal: lost, forceRenew: true });
        return outcome === 'skipped' ? ('ignored' as const) : ('renewed' as const);
      }
      if (current) await this.subscriptions.remove(accountId, subscriptionId);
      const outcome = await this.keeper.ensure(accountId, { signal: lost });
      if (outcome === 'skipped') return 'ignored' as const;
      // a new subscription requests its own catch-up round; otherwise ask for one here
      if (outcome !== 'created') await this.catchUp.request(accountId);
      return 'recreated' as const;
    });
    if (!result.acquired) throw new SubscriptionLockBusyError(accountId);
    this.logger.log(`account ${accountId}: ${lifecycleEvent} for ${subscriptionId} -> ${result.value}`);
    return result.value;
  }
}
