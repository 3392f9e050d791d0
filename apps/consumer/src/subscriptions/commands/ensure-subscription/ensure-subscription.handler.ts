import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { SubscriptionLock } from '../../subscription-lock';
import { SubscriptionKeeper } from '../../subscription-keeper';
import { SubscriptionLockBusyError } from '../../subscription-errors';
import { EnsureSubscriptionCommand, type EnsureSubscriptionResult } from './ensure-subscription.command';

/** How long a Kafka message waits for another worker's work on the same account before it is retried. */
export const LOCK_WAIT_MS = 20_000;

/** `subscription.ensure` and the renewal sweep: the keeper's ensure under the account's subscription lock. */
@CommandHandler(EnsureSubscriptionCommand)
export class EnsureSubscriptionHandler implements ICommandHandler<
  EnsureSubscriptionCommand,
  EnsureSubscriptionResult
> {
  private readonly logger = new Logger('EnsureSubscription');

  constructor(
    private readonly lock: SubscriptionLock,
    private readonly keeper: SubscriptionKeeper,
  ) {}

  async execute({
    accountId,
    reason,
    lockMode,
  }: EnsureSubscriptionCommand): Promise<EnsureSubscriptionResult> {
    const result = await this.lock.run(accountId, lockMode === 'wait' ? LOCK_WAIT_MS : 0, (lost) =>
      this.keeper.ensure(accountId, { signal: lost }),
    );
    if (!result.acquired) {
      if (lockMode === 'wait') throw new SubscriptionLockBusyError(accountId);
      return 'busy';
    }
    if (result.value === 'skipped') this.logger.debug(`ensure (${reason}) of account ${accountId} skipped`);
    return result.value;
  }
}
