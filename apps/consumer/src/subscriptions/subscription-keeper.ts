import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { GraphSubscriptionsRepository, MailAccountSyncRepository } from '@email-core/database';
import {
  WatchLifetimeRejectedError,
  type MailboxWatch,
  type NewWatchChannel,
  type WatchChannel,
} from '@email-core/providers';
import { CatchUpRequests } from './catch-up-requests';
import { SUBSCRIPTION_SETTINGS, type SubscriptionSettings } from './subscription.settings';
import { SUBSCRIPTION_WRITE_PACER, type SubscriptionWritePacer } from './subscription-write-budget';
import { MAILBOX_WATCHES, type MailboxWatches } from './watches';

export type EnsureOutcome =
  /**
   * no such account, it waits for its user to sign in again, or its provider watches it over a connection of ours
   * (IMAP IDLE: no channels to keep); its subscription row, if any, is forgotten
   */
  | 'skipped'
  /** the account's subscription exists at Graph and is not due for renewal */
  | 'unchanged'
  | 'renewed'
  /** a new subscription was created (and a catch-up round requested) */
  | 'created';

const MINUTE = 60_000;
/** attempts at an expiry Graph accepts, each shorter than the last */
const MAX_EXPIRY_ATTEMPTS = 4;

export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

/**
 * Keeps exactly one live Graph subscription per account whose provider is watched through channels (Outlook;
 * IMAP accounts are watched over IDLE connections by the IMAP watcher, and skipped here). Callers hold the account's subscription lock
 * (SubscriptionLock), so no two workers act on one account at once; what exists at Graph is listed every
 * time, so a crash at any point (between the POST and our insert, say) is repaired by the next run.
 */
@Injectable()
export class SubscriptionKeeper {
  private readonly logger = new Logger('SubscriptionKeeper');
  /** the lifetime Graph accepted after refusing a longer one (its cap), learned per process */
  private grantedLifetimeMs: number | undefined;

  constructor(
    private readonly accounts: MailAccountSyncRepository,
    private readonly subscriptions: GraphSubscriptionsRepository,
    @Inject(MAILBOX_WATCHES) private readonly graph: MailboxWatches,
    private readonly catchUp: CatchUpRequests,
    @Inject(SUBSCRIPTION_SETTINGS) private readonly settings: SubscriptionSettings,
    /** every write to Graph (create, renew, delete) waits for its slot: Graph allows 1,000 per 20 s */
    @Optional()
    @Inject(SUBSCRIPTION_WRITE_PACER)
    private readonly pacer: SubscriptionWritePacer = { take: () => Promise.resolve() },
  ) {}

  /** the clock (tests replace it) */
  now: () => number = Date.now;

  /**
   * Renew when less than this is left: `renewBeforeMinutes`, but at most half a subscription's lifetime, so a
   * short cap (Graph's, or one configured in the emulator) cannot make every sweep renew; and at least two sweep
   * intervals (up to 80 % of the lifetime), or a subscription just outside the threshold at one sweep has lapsed by
   * the next.
   */
  renewThresholdMs(): number {
    const lifetime = this.grantedLifetimeMs ?? this.settings.lifetimeMinutes * MINUTE;
    const half = Math.min(this.settings.renewBeforeMinutes * MINUTE, Math.floor(lifetime / 2));
    return Math.max(half, Math.min(2 * this.settings.checkIntervalMs, Math.floor(lifetime * 0.8)));
  }

  /**
   * Makes sure the account has exactly one live subscription: keeps the one our row names if Graph still has
   * it (renewing it when due, or always with `forceRenew`), deletes any other subscription of ours on the
   * mailbox (orphans of a crash between a POST and our insert), and creates one when none is left.
   */
  async ensure(
    accountId: string,
    opts: { signal?: AbortSignal; forceRenew?: boolean } = {},
  ): Promise<EnsureOutcome> {
    const signal = opts.signal ?? new AbortController().signal;
    const account = await this.accounts.findForSync(accountId);
    const stored = await this.subscriptions.findByAccount(accountId);
    if (!account) return 'skipped';
    const graph = this.graph.forAccount(accountId, account.provider);
    if (graph.kind !== 'channels') {
      // Watched over a connection of ours (IMAP IDLE): that provider's watcher holds it and catches up on every
      // connect, so there is no channel to open or renew and no catch-up round to ask. A row left by an older
      // version (which kept a placeholder channel) is forgotten, so the renewal sweep stops coming back to it.
      if (stored) await this.subscriptions.remove(accountId, stored.subscriptionId);
      return 'skipped';
    }
    if (account.status === 'reauth_required') {
      // Without a token it cannot be renewed; forgetting it keeps it out of the renewal sweep. Once the user
      // links again, the next ensure finds it at Graph (if it has not expired) and deletes it as an orphan.
      if (stored) await this.subscriptions.remove(accountId, stored.subscriptionId);
      return 'skipped';
    }

    const listed = await graph.list();
    const ours = (s: WatchChannel) => s.deliversTo === this.settings.notificationUrl;
    // Ours only if it still delivers to our current URL (PUBLIC_BASE_URL may have changed, e.g. a new tunnel).
    const current = stored ? listed.find((s) => s.id === stored.subscriptionId && ours(s)) : undefined;
    for (const s of listed) {
      if (s === current || !(ours(s) || s.id === stored?.subscriptionId)) continue;
      // Another linked account of ours may watch the same mailbox (two users linking one Outlook mailbox):
      // a subscription some account's row names is not an orphan.
      if (s.id !== stored?.subscriptionId && (await this.subscriptions.findRoute(s.id))) continue;
      signal.throwIfAborted();
      await this.pacer.take(signal);
      await graph.close(s.id);
      this.logger.log(`account ${accountId}: deleted stray subscription ${s.id}`);
    }

    if (current && stored) {
      const expiresAt = Math.min(current.expiresAt.getTime(), stored.expiresAt.getTime());
      if (!opts.forceRenew && expiresAt - this.now() > this.renewThresholdMs()) return 'unchanged';
      signal.throwIfAborted();
      const renewed = await this.withinCap(async (ms) => {
        await this.pacer.take(signal);
        return graph.renew(current.id, new Date(this.now() + ms));
      });
      if (renewed) {
        await this.subscriptions.renewed(accountId, current.id, renewed.expiresAt);
        this.logger.log(
          `account ${accountId}: subscription ${current.id} renewed until ${renewed.expiresAt.toISOString()}`,
        );
        return 'renewed';
      }
      this.logger.log(`account ${accountId}: subscription ${current.id} was gone at renewal; recreating`);
    }
    signal.throwIfAborted();
    return this.create(accountId, graph, signal);
  }

  private async create(accountId: string, graph: MailboxWatch, signal: AbortSignal): Promise<EnsureOutcome> {
    // The clientState goes to Graph once and comes back in every notification; we keep only its hash.
    const clientState = randomBytes(32).toString('base64url');
    const request: Omit<NewWatchChannel, 'expiresAt'> = {
      deliverTo: this.settings.notificationUrl,
      lifecycleTo: this.settings.lifecycleUrl,
      secret: clientState,
    };
    const created = await this.withinCap(async (ms) => {
      await this.pacer.take(signal);
      return graph.open({ ...request, expiresAt: new Date(this.now() + ms) });
    });
    let saved: boolean;
    try {
      saved = await this.subscriptions.save({
        accountId,
        subscriptionId: created.id,
        clientStateHash: sha256Hex(clientState),
        resource: graph.scope,
        expiresAt: created.expiresAt,
      });
    } catch (err) {
      await graph.close(created.id).catch(() => false);
      throw err;
    }
    if (!saved) {
      // unlinked meanwhile: nobody would ever renew or delete this one
      await graph.close(created.id).catch(() => false);
      this.logger.log(`account ${accountId} was removed while its subscription was created; deleted it`);
      return 'skipped';
    }
    this.logger.log(
      `account ${accountId}: subscription ${created.id} created, expires ${created.expiresAt.toISOString()}`,
    );
    // Changes between the last delta and this subscription produced no notification: catch up once.
    await this.catchUp.request(accountId);
    return 'created';
  }

  /**
   * Runs a create or renew with the configured lifetime, or the shorter one Graph accepted before; when Graph
   * refuses the expiry as beyond its cap, tries again with the cap it states (less a margin for clock skew)
   * or, if it states none, half the lifetime.
   */
  private async withinCap<T>(attempt: (lifetimeMs: number) => Promise<T>): Promise<T> {
    let lifetimeMs = Math.min(
      this.settings.lifetimeMinutes * MINUTE,
      this.grantedLifetimeMs ?? Number.POSITIVE_INFINITY,
    );
    for (let n = 1; ; n++) {
      try {
        return await attempt(lifetimeMs);
      } catch (err) {
        if (!(err instanceof WatchLifetimeRejectedError) || n >= MAX_EXPIRY_ATTEMPTS) throw err;
        const capMs = err.maxMinutes !== undefined ? err.maxMinutes * MINUTE : undefined;
        const next =
          capMs !== undefined && capMs < lifetimeMs
            ? capMs - Math.min(MINUTE, Math.floor(capMs / 10))
            : Math.floor(lifetimeMs / 2);
        if (next < MINUTE / 2) throw err;
        this.logger.warn(
          `Graph refused a subscription lifetime of ${Math.round(lifetimeMs / 1000)} s; using ${Math.round(next / 1000)} s`,
        );
        lifetimeMs = next;
        this.grantedLifetimeMs = next;
      }
    }
  }
}
