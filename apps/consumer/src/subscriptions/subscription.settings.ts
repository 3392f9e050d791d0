/** The subscription manager's settings (from `ConsumerConfig.subscriptions`). */
export interface SubscriptionSettings {
  /** where Graph POSTs change notifications (the producer's webhook, reached at `PUBLIC_BASE_URL`) */
  notificationUrl: string;
  /** where Graph POSTs lifecycle events */
  lifecycleUrl: string;
  /** asked-for lifetime of a subscription, before Graph's cap */
  lifetimeMinutes: number;
  /** renew once a subscription expires within this many minutes */
  renewBeforeMinutes: number;
  /** how often each worker sweeps for subscriptions to renew and synced accounts without one */
  checkIntervalMs: number;
}

export const SUBSCRIPTION_SETTINGS = Symbol('SUBSCRIPTION_SETTINGS');
