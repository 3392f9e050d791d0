import { Command } from '@nestjs/cqrs';
import type { SubscriptionEnsure } from '@email-core/contracts';
import type { EnsureOutcome } from '../../subscription-keeper';

/** `busy`: another worker held the account's subscription lock (only when not waiting for it). */
export type EnsureSubscriptionResult = EnsureOutcome | 'busy';

/** Make sure the account has exactly one live Graph subscription (create, renew, or leave it). */
export class EnsureSubscriptionCommand extends Command<EnsureSubscriptionResult> {
  constructor(
    readonly accountId: string,
    readonly reason: SubscriptionEnsure['reason'],
    /**
     * `wait`: wait for the account's lock (a Kafka message: failing to get it is retried later);
     * `skip`: one try, `busy` if another worker holds it (the renewal sweep: that worker is on it).
     */
    readonly lockMode: 'wait' | 'skip' = 'wait',
  ) {
    super();
  }
}
