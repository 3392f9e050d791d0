import { Client } from 'pg';
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
 * Waits until the account's catch-up sync, the one a new subscription asks for, has completed: its last completed
 * sync ended after its subscription row was written. A change made before then may be taken by that sync (under
 * the link's correlation id) rather than by the webhook's round; a test timing or tracing a webhook's round waits
 * for this first.
 */
export async function waitForCatchUpSync(
  product: RunningProduct,
  accountId: string,
  timeoutMs = 60_000,
): Promise<void> {
  const db = new Client({ connectionString: product.databaseUrl, connectionTimeoutMillis: 5000 });
  await db.connect();
  try {
    await waitFor(
      async () => {
        const r = await db.query(
          `SELECT 1 FROM mail_accounts a JOIN graph_subscriptions s ON s.account_id = a.id
            WHERE a.id = $1 AND a.status = 'synced' AND a.sync_completed_at > s.created_at`,
          [accountId],
        );
        return r.rowCount ? true : undefined;
      },
      { timeoutMs, what: `the catch-up sync of account ${accountId}` },
    );
  } finally {
    await db.end();
  }
}
