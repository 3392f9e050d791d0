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

/**
 * Waits until the account's catch-up round, the one a new subscription asks for (a `mailbox.poke` of every folder,
 * source `lifecycle`), has run: a consumer logged its round line (the product's apps log at `log` unless a test
 * says otherwise). A change made before then may be taken by that round (under the subscription's correlation id)
 * rather than by the webhook's; a test timing or tracing a webhook's round waits for this first.
 */
export async function waitForCatchUpRound(
  product: RunningProduct,
  accountId: string,
  timeoutMs = 60_000,
): Promise<void> {
  const line = catchUpRoundLine(accountId);
  await waitFor(() => Promise.resolve(product.consumers.some((c) => line.test(c.output())) || undefined), {
    timeoutMs,
    intervalMs: 200,
    what: `the catch-up round of account ${accountId}`,
  });
}

/** The consumer's line for a round of every folder that a catch-up poke (source `lifecycle`) asked for. */
export const catchUpRoundLine = (accountId: string): RegExp =>
  new RegExp(`round for account ${accountId}: [^\\n]*\\([^)\\n]*lifecycle[^)\\n]*, every folder\\)`);
