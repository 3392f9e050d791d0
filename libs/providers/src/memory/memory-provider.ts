import { createHash, randomUUID } from 'node:crypto';
import {
  CredentialsNotFoundError,
  ReauthRequiredError,
  WatchLifetimeRejectedError,
  type CredentialVault,
  type KeptCredentials,
  type MailboxWatch,
  type MailProvider,
  type NewWatchChannel,
  type SealedCredentials,
  type UnlinkedAccount,
  type WatchChannel,
  type WatchLifecycleEvent,
} from '../port';
import { MemoryMailboxClient } from './memory-mailbox-client';
import { MemoryMailbox, type MailboxChange, type MemoryAddress, type MemoryMessage } from './memory-mailbox';

/** The folders every new in-memory mailbox has, by well-known name (ids `<prefix>-<name>`). */
export const MEMORY_WELL_KNOWN_FOLDERS: ReadonlyArray<readonly [wellKnownName: string, displayName: string]> =
  [
    ['inbox', 'Inbox'],
    ['drafts', 'Drafts'],
    ['sentitems', 'Sent Items'],
    ['deleteditems', 'Deleted Items'],
    ['archive', 'Archive'],
  ];

/** What a watch channel delivers when its mailbox changes: the changes, named as a poke names them. */
export interface MemoryDelivery {
  accountId: string;
  channel: WatchChannel;
  /** the secret the channel was opened with, echoed as a provider echoes it */
  secret: string;
  changes: MailboxChange[];
}

/** A watch channel's own lifecycle event, delivered to its `lifecycleTo`. */
export interface MemoryLifecycleDelivery {
  accountId: string;
  channel: WatchChannel;
  secret: string;
  event: WatchLifecycleEvent;
}

interface OpenChannel {
  accountId: string;
  channel: WatchChannel;
  lifecycleTo: string;
  secret: string;
}

export interface MemoryProviderOptions {
  /** the `mail_accounts.provider` value it serves (default 'memory') */
  name?: string;
  /** the longest watch channel it grants; a longer expiry is refused with `WatchLifetimeRejectedError` */
  maxWatchMinutes?: number;
}

/**
 * The in-memory adapter: every account's mailbox held in this process, served through the provider port. It is
 * the second implementation of the port (Outlook's is the first) and imports nothing of any provider, which is
 * what shows the port is provider-neutral; the mirror's tests run on it.
 *
 * The test side: `createMailbox(accountId, address)` (well-known folders; then add folders and messages, change,
 * move and delete them, expire cursors on the returned `MemoryMailbox`), `revoke(accountId)` (the credentials stop
 * working), `onDelivery` / `onLifecycle` (what open watch channels deliver, in-process), `fireLifecycle`.
 */
export class MemoryProvider implements MailProvider {
  readonly name: string;
  /** channels like Graph's subscriptions (`openChannels`, `onDelivery`) */
  readonly watching = 'channels';
  readonly vault: MemoryVault;
  private readonly mailboxes = new Map<string, MemoryMailbox>();
  private readonly revoked = new Set<string>();
  private readonly channels = new Map<string, OpenChannel>();
  private readonly deliveryListeners = new Set<(d: MemoryDelivery) => void>();
  private readonly lifecycleListeners = new Set<(d: MemoryLifecycleDelivery) => void>();

  constructor(private readonly options: MemoryProviderOptions = {}) {
    this.name = options.name ?? 'memory';
    this.vault = new MemoryVault((accountId) => this.mailboxes.has(accountId));
  }

  // ---- the port ----

  mailbox(accountId: string): MemoryMailboxClient {
    return new MemoryMailboxClient({
      open: () => this.open(accountId),
      deliver: (message, recipients) => this.deliver(message, recipients),
      watch: this.watchOf(accountId, () => this.open(accountId)),
    });
  }

  watchOfUnlinked(account: UnlinkedAccount): MailboxWatch {
    return this.watchOf(account.accountId, () => {
      if (!this.vault.opens(account.sealed)) throw new CredentialsNotFoundError(account.accountId);
    });
  }

  // ---- the test side ----

  /** A new mailbox for the account, with the well-known folders, its credentials sealed in the vault. */
  createMailbox(accountId: string, address: string): MemoryMailbox {
    if (this.mailboxes.has(accountId)) throw new Error(`account ${accountId} has a mailbox already`);
    const box = new MemoryMailbox(address, `m${this.mailboxes.size + 1}`);
    for (const [wellKnownName, displayName] of MEMORY_WELL_KNOWN_FOLDERS) {
      box.addFolder({ id: `${box.idPrefix}-${wellKnownName}`, displayName, wellKnownName });
    }
    box.onChange((changes) => this.notify(accountId, changes));
    this.mailboxes.set(accountId, box);
    this.vault.seal(accountId, `memory-credential-${randomUUID()}`);
    return box;
  }

  /** the account's mailbox, as the test changes it "elsewhere" */
  mailboxOf(accountId: string): MemoryMailbox {
    const box = this.mailboxes.get(accountId);
    if (!box) throw new Error(`no in-memory mailbox for account ${accountId}`);
    return box;
  }

  /** From now on the account's credentials no longer work: every call raises `ReauthRequiredError`. */
  revoke(accountId: string): void {
    this.revoked.add(accountId);
  }

  /** the watch channels open for an account */
  openChannels(accountId: string): WatchChannel[] {
    return [...this.channels.values()]
      .filter((c) => c.accountId === accountId)
      .map((c) => ({ ...c.channel }));
  }

  /** Calls `listener` with what every open channel delivers; answers a function that stops it. */
  onDelivery(listener: (delivery: MemoryDelivery) => void): () => void {
    this.deliveryListeners.add(listener);
    return () => this.deliveryListeners.delete(listener);
  }

  onLifecycle(listener: (delivery: MemoryLifecycleDelivery) => void): () => void {
    this.lifecycleListeners.add(listener);
    return () => this.lifecycleListeners.delete(listener);
  }

  /** The provider's side of a channel's lifecycle: delivered to its listeners; `ended` also closes it. */
  fireLifecycle(channelId: string, event: WatchLifecycleEvent): void {
    const open = this.channels.get(channelId);
    if (!open) throw new Error(`no watch channel ${channelId}`);
    if (event === 'ended') this.channels.delete(channelId);
    const delivery = { accountId: open.accountId, channel: { ...open.channel }, secret: open.secret, event };
    for (const l of [...this.lifecycleListeners]) l(delivery);
  }

  // ---- internals ----

  private open(accountId: string): MemoryMailbox {
    if (this.revoked.has(accountId)) throw new ReauthRequiredError('the credentials were revoked', 'revoked');
    const box = this.mailboxes.get(accountId);
    if (!box) throw new CredentialsNotFoundError(accountId);
    return box;
  }

  private deliver(message: MemoryMessage, recipients: MemoryAddress[]): void {
    const addresses = new Set(recipients.map((r) => r.address.toLowerCase()));
    for (const box of this.mailboxes.values()) {
      if (!addresses.has(box.address.toLowerCase())) continue;
      const inbox = box.findFolder('inbox');
      if (!inbox) continue;
      const { id: _id, folderId: _folder, changeKey: _ck, ...content } = message;
      box.add(inbox.id, { ...content, isRead: false, isDraft: false, flagStatus: 'notFlagged' });
    }
  }

  private notify(accountId: string, changes: MailboxChange[]): void {
    const now = Date.now();
    for (const open of this.channels.values()) {
      if (open.accountId !== accountId || open.channel.expiresAt.getTime() <= now) continue;
      const delivery = { accountId, channel: { ...open.channel }, secret: open.secret, changes };
      for (const l of [...this.deliveryListeners]) l(delivery);
    }
  }

  private watchOf(accountId: string, check: () => unknown): MailboxWatch {
    const call = <T>(fn: () => T): Promise<T> => {
      try {
        check();
        return Promise.resolve(fn());
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    const mine = (id: string) => {
      const c = this.channels.get(id);
      return c && c.accountId === accountId ? c : undefined;
    };
    const tooLong = (expiresAt: Date) => {
      const max = this.options.maxWatchMinutes;
      if (max !== undefined && expiresAt.getTime() - Date.now() > max * 60_000) {
        throw new WatchLifetimeRejectedError(max, `a watch channel lives at most ${max} minutes`);
      }
    };
    return {
      kind: 'channels',
      scope: `memory:${accountId}`,
      list: () => call(() => this.openChannels(accountId)),
      open: (request: NewWatchChannel) =>
        call(() => {
          tooLong(request.expiresAt);
          const channel = { id: randomUUID(), deliversTo: request.deliverTo, expiresAt: request.expiresAt };
          this.channels.set(channel.id, {
            accountId,
            channel,
            lifecycleTo: request.lifecycleTo,
            secret: request.secret,
          });
          return { ...channel };
        }),
      renew: (id, expiresAt) =>
        call(() => {
          const c = mine(id);
          if (!c) return null;
          tooLong(expiresAt);
          c.channel = { ...c.channel, expiresAt };
          return { ...c.channel };
        }),
      close: (id) => call(() => (mine(id) ? this.channels.delete(id) : false)),
    };
  }
}

/**
 * The in-memory adapter's vault: a credential per account, "sealed" into the account row's columns (encoded, not
 * encrypted: nothing here is secret) and opened again from them.
 */
export class MemoryVault implements CredentialVault {
  private readonly held = new Map<string, string>();

  constructor(private readonly known: (accountId: string) => boolean) {}

  seal(accountId: string, credential: unknown): SealedCredentials {
    const secret = String(credential);
    this.held.set(accountId, secret);
    return {
      keyId: 'memory',
      accessTokenEnc: Buffer.from(`${accountId}:${secret}`).toString('base64'),
      accessTokenExpiresAt: new Date(Date.now() + 3_600_000),
      refreshTokenEnc: createHash('sha256').update(secret).digest('base64'),
    };
  }

  credentialFor(accountId: string): Promise<string> {
    const secret = this.held.get(accountId);
    if (secret === undefined || !this.known(accountId)) {
      return Promise.reject(new CredentialsNotFoundError(accountId));
    }
    return Promise.resolve(secret);
  }

  credentialFromSealed(accountId: string, sealed: KeptCredentials): Promise<string> {
    const opened = this.openSealed(sealed);
    if (opened === undefined || opened.accountId !== accountId) {
      return Promise.reject(new CredentialsNotFoundError(accountId));
    }
    return Promise.resolve(opened.secret);
  }

  /** whether sealed columns hold a credential this vault sealed */
  opens(sealed: KeptCredentials): boolean {
    return this.openSealed(sealed) !== undefined;
  }

  /** Nothing to drop: the credential is held as the account row holds it, with nothing cached beside it. */
  forget(): void {
    return undefined;
  }

  private openSealed(sealed: KeptCredentials): { accountId: string; secret: string } | undefined {
    if (sealed.keyId !== 'memory' || !sealed.accessTokenEnc) return undefined;
    const text = Buffer.from(sealed.accessTokenEnc, 'base64').toString('utf8');
    const at = text.indexOf(':');
    return at > 0 ? { accountId: text.slice(0, at), secret: text.slice(at + 1) } : undefined;
  }
}
