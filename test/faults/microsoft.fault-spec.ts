import {
  apiCall,
  expectConverged,
  linkOutlook,
  recordScenario,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type RunningProduct,
} from '@email-core/testing';

/** What `GET /_emulator/stats` counts per mailbox. */
interface MailboxStats {
  requests: number;
  maxConcurrency: number;
  throttled: number;
  statuses: Record<string, number>;
  /** messages and `@removed` entries served by message delta pages */
  deltaItems: number;
  /** requests sent again before the Retry-After of their last 429/503/504 ended */
  earlyRetries: number;
}

interface Activity {
  id: number;
  total: number;
  done: number;
  state: string;
}

/** Outlook's own limit, and the most our consumer may have in flight per mailbox. */
const OUTLOOK_CONCURRENCY = 4;

/** The emulator's fault settings as it starts (apps/outlook-emulator/src/faults/faults.service.ts). */
const DEFAULT_FAULTS = {
  throttling: { enabled: true, concurrency: 4, budget: 10000, windowSeconds: 600, retryAfterSeconds: 1 },
  randomErrors: { rate: 0, statuses: [429, 503, 504], retryAfterSeconds: 1 },
  failNext: { count: 0, status: 429, retryAfterSeconds: 1 },
  latencyMs: 0,
  notifications: { drop: 0, duplicate: 0, delayMs: 0, reorder: false },
  accessTokenLifetimeSeconds: 3599,
};

/**
 * Issue 8, the Microsoft side: Graph throttling with Retry-After, random 503/504, delta tokens that expire mid-run
 * and a revoked refresh token, each against its own mailbox on one running product (a producer, two consumers, a
 * fresh emulator). Each ends with the mirror equal to the emulator's export (expectConverged).
 */
describe('Microsoft faults: throttling, 5xx, expired delta tokens, revoked grants', () => {
  let product: RunningProduct;
  let user: { token: string; email: string };

  beforeAll(async () => {
    // two consumers, as deployed: the 4-requests-per-mailbox limit must hold across processes too
    product = await startProduct({
      isolated: true,
      consumers: 2,
      // small pages, so a sync is dozens of requests: enough for faults to land in the middle of it
      appEnv: { LOG_LEVEL: 'warn', SYNC_PAGE_SIZE: '50' },
    });
    user = await signUp(product.api);
  }, 180_000);

  afterAll(async () => {
    await product?.stop();
  });

  /**
   * Back to the emulator's default faults. (`POST /_emulator/reset` would also drop every mailbox and token, so
   * the earlier scenarios' linked accounts would start failing under the next one.)
   */
  afterEach(async () => {
    await product.emulator.admin('POST', '/_emulator/faults', DEFAULT_FAULTS);
  });

  const stats = async (address: string): Promise<MailboxStats> => {
    const s = await product.emulator.admin<{ mailboxes: Record<string, MailboxStats> }>(
      'GET',
      '/_emulator/stats',
    );
    const m = s.mailboxes[address];
    return (
      m ?? { requests: 0, maxConcurrency: 0, throttled: 0, statuses: {}, deltaItems: 0, earlyRetries: 0 }
    );
  };

  const faults = (body: Record<string, unknown>) => product.emulator.admin('POST', '/_emulator/faults', body);

  const createMailbox = (address: string, messages: number, folders: number, seed: number) =>
    product.emulator.admin('POST', '/_emulator/mailboxes', {
      address,
      seed: { messages, folders, seed },
    });

  /** Links the mailbox as its user would; resolves with the account id (from the callback's redirect). */
  const link = async (address: string): Promise<string> => {
    const dashboard = await linkOutlook(product, user.token, address);
    const accountId = /linked=([0-9a-f-]{36})/.exec(dashboard)?.[1];
    if (!accountId) throw new Error(`no linked=<id> in ${dashboard}`);
    return accountId;
  };

  const synced = (accountId: string) =>
    waitForAccountStatus(product.api, user.token, 'synced', { accountId, timeoutMs: 150_000 });

  const runActivity = (
    address: string,
    body: {
      creates: number;
      updates: number;
      moves: number;
      deletes: number;
      seconds?: number;
      seed: number;
    },
  ) => product.emulator.admin<Activity>('POST', `/_emulator/mailboxes/${address}/activity`, body);

  const activityDone = (address: string, run: Activity, atLeast = run.total) =>
    waitFor(
      async () => {
        const s = await product.emulator.admin<Activity>(
          'GET',
          `/_emulator/mailboxes/${address}/activity/${run.id}`,
        );
        return s.done >= atLeast || s.state === 'finished' ? s : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: `${atLeast} of the activity on ${address}` },
    );

  it('a 429 storm with Retry-After during the initial sync: it completes, at most 4 requests in flight', async () => {
    const started = Date.now();
    const address = 'storm@throttle.example';
    await createMailbox(address, 1200, 4, 801);
    // The budget is tiny (8 requests per 2 s window per app and mailbox), so most of the sync meets 429s with a
    // Retry-After until the window ends. The emulator's own concurrency cap is lifted, and every request takes
    // 100 ms (the emulator answers in microseconds, so requests would never overlap in it), so its maxConcurrency
    // measures what the consumers really have in flight, not what the emulator let through.
    const windowSeconds = 2;
    await faults({
      throttling: { enabled: true, concurrency: 1000, budget: 8, windowSeconds, retryAfterSeconds: 1 },
      latencyMs: 100,
    });
    const accountId = await link(address);
    // While the sync runs, the user marks mirrored mail read and unread: mail commands, which the other consumer
    // may execute, so two processes can be calling Graph for this mailbox at once.
    const mirrored = await waitFor(
      async () => {
        const res = await apiCall<{ items?: Array<{ id: string }> }>(
          product.api,
          'GET',
          `/api/v1/accounts/${accountId}/messages?limit=100`,
          { token: user.token },
        );
        return (res.body.items?.length ?? 0) >= 40 ? res.body.items!.map((m) => m.id) : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 200, what: 'the first mirrored messages' },
    );
    const commandIds: string[] = [];
    for (const [i, messageIds] of [mirrored.slice(0, 20), mirrored.slice(20, 40)].entries()) {
      const res = await apiCall<{ id: string }>(product.api, 'POST', '/api/v1/commands', {
        token: user.token,
        body: { accountId, action: 'markRead', messageIds, isRead: i === 0 },
      });
      expect(res.status).toBe(202);
      commandIds.push(res.body.id);
    }
    await synced(accountId);
    const syncSeconds = (Date.now() - started) / 1000;
    const during = await stats(address);
    const commands = await Promise.all(
      commandIds.map((id) =>
        waitFor(
          async () => {
            const res = await apiCall<{ status: string }>(product.api, 'GET', `/api/v1/commands/${id}`, {
              token: user.token,
            });
            return res.body.status === 'done' || res.body.status === 'failed' ? res.body.status : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 250, what: `command ${id} to finish` },
        ),
      ),
    );
    expect(commands).toEqual(['done', 'done']);
    await faults(DEFAULT_FAULTS);
    const converged = await expectConverged(product, [{ accountId, address }], { timeoutMs: 150_000 });
    const after = await stats(address);

    expect(converged.messages).toBe(1200);
    expect(during.throttled).toBeGreaterThan(0);
    expect(after.maxConcurrency).toBeGreaterThan(0);
    expect(after.maxConcurrency).toBeLessThanOrEqual(OUTLOOK_CONCURRENCY);
    // no request was sent again before its Retry-After had passed
    expect(after.earlyRetries).toBe(0);
    recordScenario({
      scenario: 'Graph 429 storm (budget 8 per 2 s, Retry-After) during an initial sync',
      file: __filename,
      faults: [
        `throttling budget 8 requests / ${windowSeconds} s per mailbox, 429 with Retry-After to the window's end`,
        'emulator concurrency cap lifted and 100 ms per request (so maxConcurrency measures the consumers)',
        'two markRead commands (40 messages) submitted mid-sync, two consumers',
      ],
      converged,
      compared: {
        graphRequests: after.requests,
        throttled429: during.throttled,
        earlyRetries: after.earlyRetries,
        maxConcurrency: after.maxConcurrency,
        mailCommandsDone: commands.length,
        syncSeconds: Math.round(syncSeconds),
      },
      durationMs: Date.now() - started,
    });
  }, 240_000);

  it('random 503 and 504 during a sync and during live changes: converges', async () => {
    const started = Date.now();
    const address = 'flaky@gateway.example';
    await createMailbox(address, 800, 3, 802);
    await faults({
      randomErrors: { rate: 0.25, statuses: [503, 504], retryAfterSeconds: 1 },
      throttling: { concurrency: 1000 },
      latencyMs: 50,
    });
    const accountId = await link(address);
    await synced(accountId);
    const afterSync = await stats(address);

    const changes = { creates: 40, updates: 40, moves: 15, deletes: 15 };
    const run = await runActivity(address, { ...changes, seconds: 8, seed: 12 });
    await activityDone(address, run);
    // the errors stay on until the mirror has caught up
    const converged = await expectConverged(product, [{ accountId, address }], { timeoutMs: 150_000 });
    const end = await stats(address);
    await faults(DEFAULT_FAULTS);

    const served = (s: MailboxStats, status: number) => s.statuses[String(status)] ?? 0;
    expect(served(afterSync, 503) + served(afterSync, 504)).toBeGreaterThan(0);
    expect(
      served(end, 503) - served(afterSync, 503) + served(end, 504) - served(afterSync, 504),
    ).toBeGreaterThan(0);
    expect(served(end, 503)).toBeGreaterThan(0);
    expect(served(end, 504)).toBeGreaterThan(0);
    expect(end.maxConcurrency).toBeLessThanOrEqual(OUTLOOK_CONCURRENCY);
    expect(end.earlyRetries).toBe(0);
    recordScenario({
      scenario: 'random Graph 503/504 (25 % of requests) during a sync and 110 live changes',
      file: __filename,
      faults: [
        'randomErrors rate 0.25, statuses 503/504, Retry-After 1 s, from the link to convergence',
        '50 ms per request, emulator concurrency cap lifted',
        `live changes: ${changes.creates} creates, ${changes.updates} updates, ${changes.moves} moves, ${changes.deletes} deletes in 8 s`,
      ],
      converged,
      compared: {
        graphRequests: end.requests,
        served503DuringSync: served(afterSync, 503),
        served504DuringSync: served(afterSync, 504),
        served503: served(end, 503),
        served504: served(end, 504),
        maxConcurrency: end.maxConcurrency,
        earlyRetries: end.earlyRetries,
      },
      durationMs: Date.now() - started,
    });
  }, 240_000);

  it('delta tokens expire mid-sync and during live changes: folders restart from scratch, no duplicates', async () => {
    const started = Date.now();
    const address = 'expired@delta.example';
    const size = 600;
    await createMailbox(address, size, 3, 803);
    // First in the middle of the initial sync: 60 ms per request keeps it paginating long enough to expire the
    // tokens (skiptokens included) once a third of the mailbox came down.
    await faults({ latencyMs: 60 });
    const accountId = await link(address);
    const atExpiry = await waitFor(
      async () => {
        const s = await stats(address);
        return s.deltaItems >= size / 3 ? s : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 50, what: `a third of ${address} synced` },
    );
    await faults({ expireDeltaTokens: address });
    const midSync = await apiCall<{ items: Array<{ id: string; status: string }> }>(
      product.api,
      'GET',
      '/api/v1/accounts',
      { token: user.token },
    );
    // the expiry did land mid-run, not after the sync
    expect(midSync.body.items.find((a) => a.id === accountId)?.status).toBe('syncing');
    await faults({ latencyMs: 0 });
    await synced(accountId);
    const first = await expectConverged(product, [{ accountId, address }], { timeoutMs: 120_000 });
    const before = await stats(address);
    const initial410 = before.statuses['410'] ?? 0;
    expect(initial410).toBeGreaterThan(0);
    expect(first.messages).toBe(size);
    // the folders that met the 410 started again: more than the mailbox came down in all
    expect(before.deltaItems).toBeGreaterThan(size);

    // Then while mail changes: after a third of the changes, every stored deltaLink dies

    const changes = { creates: 30, updates: 30, moves: 10, deletes: 10 };
    const total = changes.creates + changes.updates + changes.moves + changes.deletes;
    const run = await runActivity(address, { ...changes, seconds: 8, seed: 13 });
    await activityDone(address, run, Math.floor(total / 3));
    const expired = await faults({ expireDeltaTokens: address });
    expect(expired).toMatchObject({ actions: { expiredDeltaTokens: 1 } });
    await activityDone(address, run);
    // the notification rounds of the changes after the expiry meet the 410 first
    const roundsMet410 = await waitFor(
      async () => {
        const s = await stats(address);
        const n = (s.statuses['410'] ?? 0) - (before.statuses['410'] ?? 0);
        return n > 0 ? n : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'a notification round to meet 410 SyncStateNotFound' },
    );
    // every folder's stored deltaLink is dead now; a resync reaches the ones no notification touched
    const resync = await apiCall(product.api, 'POST', `/api/v1/accounts/${accountId}/resync`, {
      token: user.token,
    });
    expect(resync.status).toBe(202);
    const converged = await expectConverged(product, [{ accountId, address }], { timeoutMs: 150_000 });
    const after = await stats(address);

    const gone410 = (after.statuses['410'] ?? 0) - (before.statuses['410'] ?? 0);
    const deltaItems = after.deltaItems - before.deltaItems;
    expect(gone410).toBeGreaterThan(0);
    // the folders were downloaded again from scratch: the whole mailbox, not only the changes
    expect(deltaItems).toBeGreaterThanOrEqual(converged.messages);
    expect(converged.duplicateRows).toBe(0);
    recordScenario({
      scenario: 'delta tokens expired (410 SyncStateNotFound) mid-sync, then again during live changes',
      file: __filename,
      faults: [
        `expireDeltaTokens during the initial sync (60 ms per request) after ${atExpiry.deltaItems} of ${size} messages came down`,
        `expireDeltaTokens again after ${Math.floor(total / 3)} of ${total} live changes, then a resync request`,
      ],
      converged,
      compared: {
        served410DuringInitialSync: initial410,
        initialSyncDeltaItems: before.deltaItems,
        served410ToNotificationRounds: roundsMet410,
        served410AfterLiveExpiry: gone410,
        deltaItemsAfterExpiry: deltaItems,
        liveChanges: total,
      },
      durationMs: Date.now() - started,
    });
  }, 240_000);

  it('a revoked refresh token: reauth_required, then a re-link recovers without downloading the mail again', async () => {
    const started = Date.now();
    const address = 'revoked@grant.example';
    const size = 1000;
    await createMailbox(address, size, 3, 804);
    // short-lived access tokens: the consumer must use its refresh token for every later Graph call
    await faults({ accessTokenLifetimeSeconds: 30 });
    const accountId = await link(address);
    await synced(accountId);
    const first = await expectConverged(product, [{ accountId, address }], { timeoutMs: 120_000 });
    expect(first.messages).toBe(size);
    const initial = await stats(address);
    expect(initial.deltaItems).toBeGreaterThanOrEqual(size);

    const revoked = await faults({ revokeRefreshTokens: address });
    expect(revoked).toMatchObject({ actions: { revokedRefreshTokens: expect.any(Number) as number } });
    // mail keeps changing while the account is broken: notifications make the consumer call Graph, and a resync
    // request makes sure it does
    const changes = { creates: 10, updates: 10, moves: 5, deletes: 5 };
    const changed = changes.creates + changes.updates + changes.moves + changes.deletes;
    const run = await runActivity(address, { ...changes, seed: 14 });
    await activityDone(address, run);
    await apiCall(product.api, 'POST', `/api/v1/accounts/${accountId}/resync`, { token: user.token });
    const broken = await waitForAccountStatus(product.api, user.token, 'reauth_required', {
      accountId,
      timeoutMs: 120_000,
    });
    expect(broken.status).toBe('reauth_required');
    const listed = await apiCall<{ items: Array<{ id: string; status: string; statusReason?: string }> }>(
      product.api,
      'GET',
      '/api/v1/accounts',
      { token: user.token },
    );
    expect(listed.body.items.find((a) => a.id === accountId)?.status).toBe('reauth_required');
    const beforeRelink = await stats(address);

    // the user links the same mailbox again
    const relinkedId = await link(address);
    expect(relinkedId).toBe(accountId);
    await synced(accountId);
    const converged = await expectConverged(product, [{ accountId, address }], { timeoutMs: 150_000 });
    const after = await stats(address);

    const relinkDeltaItems = after.deltaItems - beforeRelink.deltaItems;
    const relinkRequests = after.requests - beforeRelink.requests;
    // only the changes made while it was broken come down again (a move is an add and a removal)
    expect(relinkDeltaItems).toBeLessThanOrEqual(changed + changes.moves);
    expect(relinkDeltaItems).toBeLessThan(converged.messages / 10);
    expect(converged.messages).toBe(size + changes.creates - changes.deletes);
    recordScenario({
      scenario: 'revoked refresh token: reauth_required, then re-link of the same mailbox',
      file: __filename,
      faults: [
        'accessTokenLifetimeSeconds 30 from the link',
        `revokeRefreshTokens, then ${changed} changes while broken`,
        're-link through the sign-in',
      ],
      converged,
      compared: {
        reachedReauthRequired: true,
        initialSyncDeltaItems: initial.deltaItems,
        changesWhileBroken: changed,
        relinkDeltaItems,
        relinkGraphRequests: relinkRequests,
      },
      durationMs: Date.now() - started,
    });
  }, 240_000);
});
