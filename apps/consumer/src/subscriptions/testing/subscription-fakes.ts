import type {
  GraphSubscriptionsRepository,
  MailAccountStatus,
  MailAccountSyncRepository,
  StoredSubscription,
  SubscriptionRemoval,
} from '@email-core/database';
import {
  ProviderRefusedError,
  WatchLifetimeRejectedError,
  type MailboxWatch,
  type MailboxWatching,
  type NewWatchChannel,
  type WatchChannel,
} from '@email-core/providers';
import type { CatchUpRequests } from '../catch-up-requests';
import type { SubscriptionLock } from '../subscription-lock';
import type { SubscriptionSettings } from '../subscription.settings';
import type { MailboxWatches } from '../watches';

/** In-memory stand-ins for the subscription manager's collaborators (unit tests only). */

export const SETTINGS: SubscriptionSettings = {
  notificationUrl: 'https://hooks.example/api/v1/graph/notifications',
  lifecycleUrl: 'https://hooks.example/api/v1/graph/lifecycle',
  lifetimeMinutes: 4200,
  renewBeforeMinutes: 720,
  checkIntervalMs: 60_000,
};

export const MINUTE = 60_000;

/** A Graph subscription as the fake keeps it. */
export interface GraphSubscription {
  id: string;
  resource: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  expirationDateTime: Date;
}

const channel = (s: GraphSubscription): WatchChannel => ({
  id: s.id,
  deliversTo: s.notificationUrl,
  expiresAt: s.expirationDateTime,
});

/**
 * Graph's subscriptions of every mailbox (one mailbox per account unless `mailboxOf` says otherwise), behind the
 * port's watch channels as the Outlook adapter maps them.
 */
export class FakeGraph implements MailboxWatches {
  readonly subs = new Map<string, GraphSubscription & { mailbox: string; clientState: string }>();
  readonly log: string[] = [];
  capMinutes = 4230;
  /** states the cap in its 400 (Graph's words) or not */
  statesCap = true;
  /** the next create fails with this */
  failCreate: Error | undefined;
  /** a delete through `forRemoval` fails with this */
  failRemoval: Error | undefined;
  mailboxOf = (accountId: string) => accountId;
  /** providers whose mailboxes are watched over a connection of ours (IMAP IDLE): no channels */
  readonly connectionProviders = new Set<string>(['imap']);
  /** accounts `forAccount` was asked about, with their provider */
  readonly asked: Array<{ accountId: string; provider: string }> = [];
  private n = 0;

  constructor(private readonly now: () => number) {}

  /** a subscription made outside the keeper (a crash after the POST, another app, an old URL) */
  add(accountId: string, extra: Partial<GraphSubscription> = {}): string {
    const id = extra.id ?? `sub-${++this.n}`;
    this.subs.set(id, {
      id,
      resource: 'me/messages',
      changeType: 'created,updated,deleted',
      notificationUrl: SETTINGS.notificationUrl,
      lifecycleNotificationUrl: SETTINGS.lifecycleUrl,
      expirationDateTime: new Date(this.now() + 3000 * MINUTE),
      ...extra,
      mailbox: this.mailboxOf(accountId),
      clientState: 'unknown',
    });
    return id;
  }

  of(accountId: string): Array<GraphSubscription & { clientState: string }> {
    return [...this.subs.values()].filter((s) => s.mailbox === this.mailboxOf(accountId));
  }

  forAccount(accountId: string, provider = 'outlook'): MailboxWatching {
    this.asked.push({ accountId, provider });
    return this.connectionProviders.has(provider) ? { kind: 'connection' } : this.mailbox(accountId);
  }

  channelProviders(): string[] {
    return ['outlook', 'imap'].filter((p) => !this.connectionProviders.has(p));
  }

  forRemoval(removal: SubscriptionRemoval): MailboxWatch {
    const inner = this.mailbox(removal.accountId);
    return {
      ...inner,
      close: (id) => (this.failRemoval ? Promise.reject(this.failRemoval) : inner.close(id)),
    };
  }

  private checkCap(at: Date): void {
    if (at.getTime() - this.now() > this.capMinutes * MINUTE) {
      throw new WatchLifetimeRejectedError(
        this.statesCap ? this.capMinutes : undefined,
        `Subscription expiration can only be ${this.capMinutes} minutes in the future.`,
      );
    }
  }

  private mailbox(accountId: string): MailboxWatch {
    const mailbox = this.mailboxOf(accountId);
    return {
      kind: 'channels',
      scope: 'me/messages',
      list: () => {
        this.log.push('list');
        return Promise.resolve([...this.subs.values()].filter((s) => s.mailbox === mailbox).map(channel));
      },
      open: (request: NewWatchChannel) => {
        const input = {
          resource: 'me/messages',
          changeType: 'created,updated,deleted',
          notificationUrl: request.deliverTo,
          lifecycleNotificationUrl: request.lifecycleTo,
          clientState: request.secret,
          expirationDateTime: request.expiresAt,
        };
        this.log.push('create');
        if (this.failCreate) {
          const err = this.failCreate;
          this.failCreate = undefined;
          return Promise.reject(err);
        }
        this.checkCap(input.expirationDateTime);
        const id = `sub-${++this.n}`;
        const sub = {
          id,
          resource: input.resource,
          changeType: input.changeType,
          notificationUrl: input.notificationUrl,
          lifecycleNotificationUrl: input.lifecycleNotificationUrl,
          expirationDateTime: input.expirationDateTime,
          mailbox,
          clientState: input.clientState,
        };
        this.subs.set(id, sub);
        return Promise.resolve(channel(sub));
      },
      renew: (id: string, at: Date) => {
        this.log.push(`renew ${id}`);
        const sub = this.subs.get(id);
        if (!sub) return Promise.resolve(null);
        this.checkCap(at);
        sub.expirationDateTime = at;
        return Promise.resolve(channel(sub));
      },
      close: (id: string) => {
        this.log.push(`delete ${id}`);
        return Promise.resolve(this.subs.delete(id));
      },
    };
  }
}

export const notFound = () => new ProviderRefusedError(404, 'ResourceNotFound', 'gone');

/** `graph_subscriptions`, `subscription_removals` and the accounts' statuses, in memory. */
export class FakeStore {
  readonly accounts = new Map<string, MailAccountStatus>();
  /** an account's provider, when not Outlook */
  readonly providers = new Map<string, string>();
  readonly rows = new Map<string, StoredSubscription>();
  readonly removals = new Map<string, SubscriptionRemoval>();
  /** the next save answers false (the account was unlinked meanwhile) */
  accountGoneOnSave = false;

  constructor(private readonly now: () => number) {}

  readonly accountsRepo = {
    findForSync: (id: string) => {
      const status = this.accounts.get(id);
      const provider = this.providers.get(id);
      return Promise.resolve(
        status ? { id, userId: 'user-1', status, ...(provider ? { provider } : {}) } : null,
      );
    },
  } as unknown as MailAccountSyncRepository;

  readonly repo = {
    findByAccount: (id: string) => Promise.resolve(this.rows.get(id) ?? null),
    findRoute: (subscriptionId: string) => {
      const row = [...this.rows.values()].find((r) => r.subscriptionId === subscriptionId);
      return Promise.resolve(
        row ? { accountId: row.accountId, userId: 'user-1', clientStateHash: row.clientStateHash } : null,
      );
    },
    save: (sub: Omit<StoredSubscription, 'createdAt' | 'renewedAt'>) => {
      if (this.accountGoneOnSave || !this.accounts.has(sub.accountId)) return Promise.resolve(false);
      this.rows.set(sub.accountId, { ...sub, createdAt: new Date(this.now()), renewedAt: null });
      return Promise.resolve(true);
    },
    renewed: (accountId: string, subscriptionId: string, expiresAt: Date) => {
      const row = this.rows.get(accountId);
      if (!row || row.subscriptionId !== subscriptionId) return Promise.resolve(false);
      row.expiresAt = expiresAt;
      row.renewedAt = new Date(this.now());
      return Promise.resolve(true);
    },
    remove: (accountId: string, subscriptionId: string) => {
      const row = this.rows.get(accountId);
      if (!row || row.subscriptionId !== subscriptionId) return Promise.resolve(false);
      this.rows.delete(accountId);
      return Promise.resolve(true);
    },
    expiringBefore: (before: Date, limit: number, after?: { expiresAt: Date; accountId: string }) =>
      Promise.resolve(
        [...this.rows.values()]
          .filter((r) => r.expiresAt < before)
          .sort(
            (a, b) => a.expiresAt.getTime() - b.expiresAt.getTime() || a.accountId.localeCompare(b.accountId),
          )
          .filter(
            (r) =>
              !after ||
              r.expiresAt.getTime() > after.expiresAt.getTime() ||
              (r.expiresAt.getTime() === after.expiresAt.getTime() && r.accountId > after.accountId),
          )
          .slice(0, limit),
      ),
    syncedWithout: (limit: number, providers: readonly string[]) =>
      Promise.resolve(
        [...this.accounts.entries()]
          .filter(([id, status]) => status === 'synced' && !this.rows.has(id))
          .filter(([id]) => providers.includes(this.providers.get(id) ?? 'outlook'))
          .map(([id]) => id)
          .slice(0, limit),
      ),
    findRemoval: (id: string) => Promise.resolve(this.removals.get(id) ?? null),
    removalDone: (id: string) => {
      this.removals.delete(id);
      return Promise.resolve();
    },
  } as unknown as GraphSubscriptionsRepository;
}

/** The catch-up rounds asked for, by account, in order. */
export class FakeCatchUp {
  readonly requests: string[] = [];
  readonly port = {
    request: (accountId: string) => {
      this.requests.push(accountId);
      return Promise.resolve();
    },
  } as unknown as CatchUpRequests;
}

/** The per-account lock within one process (the real one is Redis; its exclusion is tested in libs/cache). */
export class FakeLock {
  readonly held = new Set<string>();
  readonly port = {
    run: async <T>(
      accountId: string,
      _waitMs: number,
      work: (lost: AbortSignal) => Promise<T>,
    ): Promise<{ acquired: true; value: T } | { acquired: false }> => {
      if (this.held.has(accountId)) return { acquired: false };
      this.held.add(accountId);
      try {
        return { acquired: true, value: await work(new AbortController().signal) };
      } finally {
        this.held.delete(accountId);
      }
    },
  } as unknown as SubscriptionLock;
}
