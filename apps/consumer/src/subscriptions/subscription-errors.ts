/** Another worker kept the account's subscription lock; the message is retried later (Kafka retry topic). */
export class SubscriptionLockBusyError extends Error {
  constructor(readonly accountId: string) {
    super(`SUBSCRIPTION_LOCK_BUSY: another worker is working on the subscription of account ${accountId}`);
    this.name = 'SubscriptionLockBusyError';
  }
}
