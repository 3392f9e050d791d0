import { randomUUID } from 'node:crypto';
import { Topics, type SubscriptionWork, type SyncRequested } from '@email-core/contracts';
import { ProviderRegistry, type ImapAccountSettings } from '@email-core/providers';
import { devMailServer, imapAdapterTestEnv, waitFor, type DevMailServer } from '@email-core/testing';
import { startConsumerHarness, type ConsumerHarness } from '../mirror/testing/consumer-harness';
import { SubscriptionKeeper } from './subscription-keeper';
import { SubscriptionRenewalJob } from './subscription-renewal.job';

/**
 * IMAP accounts and the subscriptions feature, in the consumer app as it boots (real Postgres, Kafka, Redis and
 * the stack's Dovecot): an IMAP mailbox is watched over IDLE by its own watcher, so its first sync asks no
 * `subscription.ensure`, the renewal sweep leaves it alone, no `graph_subscriptions` row (nor a catch-up resync)
 * ever appears, and a sync asked for an account unlinked meanwhile is dropped, not dead-lettered.
 */

const describeStack = (name: string, fn: () => void) =>
  (devMailServer() ? describe : describe.skip)(name, fn);

let server: DevMailServer;
let harness: ConsumerHarness;

const sync = (accountId: string, reason: SyncRequested['reason']): SyncRequested => ({
  type: 'sync.requested',
  v: 1,
  accountId,
  reason,
  requestedAt: new Date().toISOString(),
});

/** an IMAP account of a fresh address on the dev server, inserted as linking does (settings sealed) */
async function link(): Promise<string> {
  const accountId = randomUUID();
  const address = `watch-${accountId.slice(0, 8)}@imap-watch.example`;
  const login = { host: server.imap.host, username: address, password: server.password };
  const settings: ImapAccountSettings = {
    email: address,
    imap: { ...login, port: server.imap.port, security: 'starttls' },
    smtp: { ...login, host: server.submission.host, port: server.submission.port, security: 'starttls' },
  };
  const sealed = harness.app.get(ProviderRegistry).adapter('imap').vault.seal(accountId, settings);
  await harness.db.query(
    `INSERT INTO mail_accounts (id, user_id, provider, external_user_id, email, token_key_id, access_token_enc,
                                access_token_expires_at, refresh_token_enc, status)
     VALUES ($1, $2, 'imap', $3, $3, $4, $5, $6, $7, 'syncing')`,
    [
      accountId,
      harness.userId,
      address,
      sealed.keyId,
      sealed.accessTokenEnc,
      sealed.accessTokenExpiresAt,
      sealed.refreshTokenEnc,
    ],
  );
  return accountId;
}

const about = (accountId: string) => (v: unknown) => JSON.stringify(v).includes(accountId);
const subscriptionRows = async (accountId: string) =>
  (await harness.db.query(`SELECT 1 FROM graph_subscriptions WHERE account_id = $1`, [accountId])).rowCount;

describeStack('IMAP accounts keep no subscriptions (real Kafka, Postgres, Redis, Dovecot)', () => {
  beforeAll(async () => {
    const found = devMailServer();
    if (!found) throw new Error('the stack mail server is not running');
    server = found;
    harness = await startConsumerHarness({
      name: 'imap-watch',
      // the IDLE watcher has its own int-spec; here only the subscriptions feature and the sync are looked at
      env: { ...imapAdapterTestEnv(server), IMAP_IDLE_ENABLED: 'false' },
      observe: [Topics.subscriptions, Topics.syncRequests, Topics.deadLetter, Topics.retry],
    });
  }, 120_000);

  afterAll(async () => {
    await harness?.close();
  });

  it('a first sync asks no subscription; the keeper and the renewal sweep leave the account alone', async () => {
    const accountId = await link();
    await harness.publisher.publish(harness.topic(Topics.syncRequests), accountId, sync(accountId, 'linked'));
    await waitFor(
      async () =>
        (
          await harness.db.query(
            `SELECT 1 FROM mail_accounts WHERE id = $1 AND status = 'synced' AND sync_completed_at IS NOT NULL`,
            [accountId],
          )
        ).rowCount
          ? true
          : undefined,
      { timeoutMs: 30_000, what: 'the first sync' },
    );
    await expect(harness.app.get(SubscriptionKeeper).ensure(accountId)).resolves.toBe('skipped');
    await harness.app.get(SubscriptionRenewalJob).sweep();
    // what a subscription.ensure or a catch-up resync would have taken to show
    await new Promise((r) => setTimeout(r, 1500));
    const work = (harness.seen(Topics.subscriptions) as SubscriptionWork[]).filter(about(accountId));
    expect(work).toEqual([]);
    expect(await subscriptionRows(accountId)).toBe(0);
    const syncs = (harness.seen(Topics.syncRequests) as SyncRequested[]).filter(
      (s) => s.accountId === accountId,
    );
    expect(syncs.map((s) => s.reason)).toEqual(['linked']); // no catch-up resync
    expect(harness.seen(Topics.deadLetter).filter(about(accountId))).toEqual([]);
    expect(harness.seen(Topics.retry).filter(about(accountId))).toEqual([]);
  }, 60_000);

  it('a resync of an account unlinked meanwhile is dropped quietly: nothing retried or dead-lettered', async () => {
    const accountId = await link();
    await harness.db.query(`DELETE FROM mail_accounts WHERE id = $1`, [accountId]);
    await harness.publisher.publish(harness.topic(Topics.syncRequests), accountId, sync(accountId, 'resync'));
    await waitFor(
      () =>
        Promise.resolve(
          (harness.seen(Topics.syncRequests) as SyncRequested[]).some((s) => s.accountId === accountId) ||
            undefined,
        ),
      { timeoutMs: 10_000, what: 'the resync on its topic' },
    );
    await new Promise((r) => setTimeout(r, 2000));
    expect(harness.seen(Topics.deadLetter).filter(about(accountId))).toEqual([]);
    expect(harness.seen(Topics.retry).filter(about(accountId))).toEqual([]);
    expect(harness.seen(Topics.subscriptions).filter(about(accountId))).toEqual([]);
  }, 30_000);
});
