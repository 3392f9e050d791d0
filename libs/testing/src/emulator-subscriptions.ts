import type { RunningProduct } from './product';
import { waitFor } from './wait-for';

/**
 * Waits until the emulator holds an active Graph subscription whose notification URL is this product's API: from
 * then on, a change in a linked mailbox reaches the webhook.
 */
export async function waitForActiveSubscription(product: RunningProduct, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    async () => {
      const subs = await product.emulator.admin<{
        value: Array<{ notificationUrl: string; state: string }>;
      }>('GET', '/_emulator/subscriptions');
      return subs.value.some((s) => s.state === 'active' && s.notificationUrl.startsWith(product.api))
        ? true
        : undefined;
    },
    { timeoutMs, what: "the mailbox's subscription" },
  );
}
