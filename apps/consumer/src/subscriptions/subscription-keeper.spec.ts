import { Logger } from '@nestjs/common';
import { ProviderRefusedError } from '@email-core/providers';
import { sha256Hex, SubscriptionKeeper } from './subscription-keeper';
import type { SubscriptionSettings } from './subscription.settings';
import { FakeGraph, FakeCatchUp, FakeStore, MINUTE, SETTINGS } from './testing/subscription-fakes';

const A = 'acct-a';

function setup(settings: Partial<SubscriptionSettings> = {}) {
  let clock = Date.parse('2026-11-22T08:00:00.000Z');
  const now = () => clock;
  const graph = new FakeGraph(now);
  const store = new FakeStore(now);
  const catchUp = new FakeCatchUp();
  const keeper = new SubscriptionKeeper(store.accountsRepo, store.repo, graph, catchUp.port, {
    ...SETTINGS,
    ...settings,
  });
  keeper.now = now;
  store.accounts.set(A, 'synced');
  return {
    graph,
    store,
    catchUp,
    keeper,
    advance: (ms: number) => (clock += ms),
    now,
  };
}

describe('SubscriptionKeeper.ensure', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it('creates one subscription with our URLs, a random clientState stored only as its hash, and catches up', async () => {
    const { keeper, graph, store, catchUp, now } = setup();
    await expect(keeper.ensure(A)).resolves.toBe('created');

    const [sub] = graph.of(A);
    expect(graph.of(A)).toHaveLength(1);
    expect(sub).toMatchObject({
      resource: 'me/messages',
      changeType: 'created,updated,deleted',
      notificationUrl: SETTINGS.notificationUrl,
      lifecycleNotificationUrl: SETTINGS.lifecycleUrl,
    });
    expect(sub.expirationDateTime.getTime()).toBe(now() + SETTINGS.lifetimeMinutes * MINUTE);
    expect(sub.clientState).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
    const row = store.rows.get(A);
    expect(row).toMatchObject({ subscriptionId: sub.id, resource: 'me/messages' });
    expect(row?.clientStateHash).toBe(sha256Hex(sub.clientState));
    expect(row?.clientStateHash).not.toContain(sub.clientState);
    expect(row?.expiresAt).toEqual(sub.expirationDateTime);
    expect(catchUp.requests).toEqual([A]);

    // a second account gets a different clientState
    store.accounts.set('acct-b', 'synced');
    await keeper.ensure('acct-b');
    expect(graph.of('acct-b')[0].clientState).not.toBe(sub.clientState);
  });

  it('leaves a healthy subscription alone, however often it is asked', async () => {
    const { keeper, graph, catchUp } = setup();
    await keeper.ensure(A);
    graph.log.length = 0;
    for (let i = 0; i < 3; i++) await expect(keeper.ensure(A)).resolves.toBe('unchanged');
    expect(graph.log).toEqual(['list', 'list', 'list']);
    expect(graph.of(A)).toHaveLength(1);
    expect(catchUp.requests).toHaveLength(1);
  });

  it('renews by PATCH once less than renewBeforeMinutes is left: same id, later expiry', async () => {
    const { keeper, graph, store, advance, now } = setup();
    await keeper.ensure(A);
    const [before] = graph.of(A);
    advance((SETTINGS.lifetimeMinutes - SETTINGS.renewBeforeMinutes - 1) * MINUTE);
    await expect(keeper.ensure(A)).resolves.toBe('unchanged');
    advance(2 * MINUTE);
    await expect(keeper.ensure(A)).resolves.toBe('renewed');
    const [after] = graph.of(A);
    expect(after.id).toBe(before.id);
    expect(after.expirationDateTime.getTime()).toBe(now() + SETTINGS.lifetimeMinutes * MINUTE);
    expect(store.rows.get(A)?.expiresAt).toEqual(after.expirationDateTime);
    expect(store.rows.get(A)?.renewedAt).not.toBeNull();
  });

  it('renews when either Graph or our row says it is near expiry', async () => {
    const { keeper, store, now } = setup();
    await keeper.ensure(A);
    const row = store.rows.get(A);
    if (!row) throw new Error('no row');
    row.expiresAt = new Date(now() + MINUTE);
    await expect(keeper.ensure(A)).resolves.toBe('renewed');
  });

  it('renews on demand (reauthorizationRequired) even when not due', async () => {
    const { keeper } = setup();
    await keeper.ensure(A);
    await expect(keeper.ensure(A, { forceRenew: true })).resolves.toBe('renewed');
  });

  it('recreates when Graph no longer has the subscription our row names (at listing or at renewal)', async () => {
    const { keeper, graph, store, catchUp } = setup();
    await keeper.ensure(A);
    const first = store.rows.get(A)?.subscriptionId ?? '';
    graph.subs.delete(first);
    await expect(keeper.ensure(A)).resolves.toBe('created');
    const second = store.rows.get(A)?.subscriptionId ?? '';
    expect(second).not.toBe(first);
    expect(graph.of(A).map((s) => s.id)).toEqual([second]);

    // gone between the listing and the PATCH
    const mailbox = graph.forAccount(A);
    if (mailbox.kind !== 'channels') throw new Error('an Outlook account has channels');
    graph.forAccount = () => ({
      ...mailbox,
      renew: async (id, at) => {
        graph.subs.delete(id);
        return mailbox.renew(id, at);
      },
    });
    await expect(keeper.ensure(A, { forceRenew: true })).resolves.toBe('created');
    expect(graph.of(A)).toHaveLength(1);
    expect(graph.of(A)[0].id).toBe(store.rows.get(A)?.subscriptionId);
    expect(catchUp.requests).toHaveLength(3);
  });

  it('deletes orphans of ours (a crash between POST and insert) and never leaves duplicates', async () => {
    const { keeper, graph, store } = setup();
    await keeper.ensure(A);
    const kept = store.rows.get(A)?.subscriptionId;
    const orphan1 = graph.add(A);
    const orphan2 = graph.add(A);
    const foreign = graph.add(A, { notificationUrl: 'https://someone-else.example/hook' });
    await expect(keeper.ensure(A)).resolves.toBe('unchanged');
    expect(graph.log).toContain(`delete ${orphan1}`);
    expect(graph.log).toContain(`delete ${orphan2}`);
    expect(
      graph
        .of(A)
        .map((s) => s.id)
        .sort(),
    ).toEqual([kept, foreign].sort());
  });

  it('with no row, deletes every subscription of ours before creating exactly one', async () => {
    const { keeper, graph } = setup();
    graph.add(A);
    graph.add(A);
    await expect(keeper.ensure(A)).resolves.toBe('created');
    expect(graph.of(A).filter((s) => s.notificationUrl === SETTINGS.notificationUrl)).toHaveLength(1);
  });

  it('replaces our subscription when it delivers to an old URL (PUBLIC_BASE_URL changed)', async () => {
    const { keeper, graph, store } = setup();
    await keeper.ensure(A);
    const old = store.rows.get(A)?.subscriptionId ?? '';
    const sub = graph.subs.get(old);
    if (!sub) throw new Error('no sub');
    sub.notificationUrl = 'https://old-tunnel.example/api/v1/graph/notifications';
    await expect(keeper.ensure(A)).resolves.toBe('created');
    expect(graph.subs.has(old)).toBe(false);
    expect(graph.of(A)).toHaveLength(1);
  });

  it("leaves alone a subscription another of our accounts' rows names (one mailbox linked twice)", async () => {
    const { keeper, graph, store } = setup();
    graph.mailboxOf = () => 'shared-mailbox';
    store.accounts.set('acct-b', 'synced');
    await keeper.ensure(A);
    await keeper.ensure('acct-b');
    await keeper.ensure(A);
    await keeper.ensure('acct-b');
    expect(graph.of(A)).toHaveLength(2);
    expect(new Set(graph.of(A).map((s) => s.id))).toEqual(
      new Set([store.rows.get(A)?.subscriptionId, store.rows.get('acct-b')?.subscriptionId]),
    );
  });

  it('meets the expiry cap Graph states, keeps what Graph granted, and asks for it straight away next time', async () => {
    const { keeper, graph, store, now } = setup();
    graph.capMinutes = 10;
    await expect(keeper.ensure(A)).resolves.toBe('created');
    const granted = graph.of(A)[0].expirationDateTime.getTime() - now();
    expect(granted).toBeLessThanOrEqual(10 * MINUTE);
    expect(granted).toBeGreaterThanOrEqual(9 * MINUTE);
    expect(store.rows.get(A)?.expiresAt.getTime()).toBe(now() + granted);
    expect(graph.log.filter((l) => l === 'create')).toHaveLength(2);
    // the renewal threshold shrinks to half the granted lifetime, so a short cap is not renewed every sweep
    expect(keeper.renewThresholdMs()).toBe(Math.floor(granted / 2));

    graph.log.length = 0;
    store.accounts.set('acct-b', 'synced');
    await keeper.ensure('acct-b');
    expect(graph.log.filter((l) => l === 'create')).toHaveLength(1);
  });

  it('with a cap shorter than four sweep intervals, renews two sweeps ahead, so none lapses between sweeps', async () => {
    const { keeper, graph, now } = setup();
    graph.capMinutes = 2;
    await expect(keeper.ensure(A)).resolves.toBe('created');
    const granted = graph.of(A)[0].expirationDateTime.getTime() - now();
    // half of 108 s (54 s) is less than the 60 s between sweeps: one found with 55 s left would lapse by the next
    expect(keeper.renewThresholdMs()).toBe(Math.min(2 * SETTINGS.checkIntervalMs, Math.floor(granted * 0.8)));
    expect(keeper.renewThresholdMs()).toBeGreaterThan(SETTINGS.checkIntervalMs);
  });

  it('halves the lifetime when Graph refuses the expiry without stating its cap', async () => {
    const { keeper, graph } = setup({ lifetimeMinutes: 4000 });
    graph.capMinutes = 1500;
    graph.statesCap = false;
    await expect(keeper.ensure(A)).resolves.toBe('created');
    expect(graph.log.filter((l) => l === 'create')).toHaveLength(3); // 4000, 2000, 1000 minutes
  });

  it('renewals respect the cap too', async () => {
    const { keeper, graph, advance, now } = setup({ renewBeforeMinutes: 60 });
    await keeper.ensure(A);
    graph.capMinutes = 30;
    advance((SETTINGS.lifetimeMinutes - 30) * MINUTE);
    await expect(keeper.ensure(A)).resolves.toBe('renewed');
    expect(graph.of(A)[0].expirationDateTime.getTime() - now()).toBeLessThanOrEqual(30 * MINUTE);
  });

  it('skips unknown accounts, and forgets the subscription of one that needs re-authorization', async () => {
    const { keeper, graph, store } = setup();
    await expect(keeper.ensure('nobody')).resolves.toBe('skipped');
    await keeper.ensure(A);
    store.accounts.set(A, 'reauth_required');
    graph.log.length = 0;
    await expect(keeper.ensure(A)).resolves.toBe('skipped');
    expect(store.rows.has(A)).toBe(false);
    expect(graph.log).toEqual([]); // no token: Graph is not called
  });

  it('deletes what it just created when the account was unlinked meanwhile', async () => {
    const { keeper, graph, store, catchUp } = setup();
    store.accountGoneOnSave = true;
    await expect(keeper.ensure(A)).resolves.toBe('skipped');
    expect(graph.of(A)).toHaveLength(0);
    expect(catchUp.requests).toEqual([]);
  });

  it('passes Graph failures on (the Kafka retry or the next sweep tries again)', async () => {
    const { keeper, graph, store } = setup();
    graph.failCreate = new ProviderRefusedError(
      400,
      'InvalidRequest',
      'Subscription validation request failed.',
    );
    await expect(keeper.ensure(A)).rejects.toBeInstanceOf(ProviderRefusedError);
    expect(store.rows.has(A)).toBe(false);
    await expect(keeper.ensure(A)).resolves.toBe('created');
  });

  it('stops before changing anything at Graph once its lock is lost', async () => {
    const { keeper, graph } = setup();
    graph.add(A);
    const lost = new AbortController();
    lost.abort(new Error('lock lost'));
    await expect(keeper.ensure(A, { signal: lost.signal })).rejects.toThrow('lock lost');
    expect(graph.log).toEqual(['list']);
  });

  it('leaves an account watched over its own connection (IMAP IDLE) alone: no channel, no catch-up round', async () => {
    const { keeper, graph, store, catchUp } = setup();
    store.accounts.set('imap-acct', 'synced');
    store.providers.set('imap-acct', 'imap');
    graph.log.length = 0;
    for (let i = 0; i < 2; i++) await expect(keeper.ensure('imap-acct')).resolves.toBe('skipped');
    await expect(keeper.ensure('imap-acct', { forceRenew: true })).resolves.toBe('skipped');
    expect(graph.asked.filter((a) => a.accountId === 'imap-acct').map((a) => a.provider)).toEqual([
      'imap',
      'imap',
      'imap',
    ]);
    expect(graph.log).toEqual([]); // nothing listed, opened or renewed
    expect(store.rows.has('imap-acct')).toBe(false);
    expect(catchUp.requests).toEqual([]);
  });

  it('forgets a placeholder channel row an IMAP account kept before (the sweep stops renewing it)', async () => {
    const { keeper, graph, store, catchUp, now } = setup();
    store.accounts.set('imap-acct', 'synced');
    store.providers.set('imap-acct', 'imap');
    store.rows.set('imap-acct', {
      accountId: 'imap-acct',
      subscriptionId: 'imap-idle:imap-acct',
      clientStateHash: sha256Hex('x'),
      resource: 'imap-idle:imap-acct',
      expiresAt: new Date(now() + MINUTE),
      createdAt: new Date(now()),
      renewedAt: null,
    });
    await expect(keeper.ensure('imap-acct')).resolves.toBe('skipped');
    expect(store.rows.has('imap-acct')).toBe(false);
    expect(graph.log).toEqual([]);
    expect(catchUp.requests).toEqual([]);
  });

  it('keeps Outlook accounts on channels beside IMAP ones', async () => {
    const { keeper, graph, store, catchUp } = setup();
    store.accounts.set('imap-acct', 'synced');
    store.providers.set('imap-acct', 'imap');
    await expect(keeper.ensure('imap-acct')).resolves.toBe('skipped');
    await expect(keeper.ensure(A)).resolves.toBe('created');
    expect(graph.of(A)).toHaveLength(1);
    expect(graph.asked.map((a) => [a.accountId, a.provider])).toEqual([
      ['imap-acct', 'imap'],
      [A, 'outlook'],
    ]);
    expect(catchUp.requests).toEqual([A]);
  });
});
