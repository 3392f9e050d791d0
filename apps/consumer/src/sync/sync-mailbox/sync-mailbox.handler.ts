import { Inject, Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import {
  MailAccountSyncRepository,
  MailFoldersRepository,
  MessagesRepository,
  type AccountForSync,
  type FolderSyncState,
} from '@email-core/database';
import { describeError } from '@email-core/kafka';
import { ProviderRegistry, type MailboxReader } from '@email-core/providers';
import { DomainEventsPublisher } from '../../messaging/domain-events.publisher';
import { AccountCacheVersion } from '../../mirror/account-cache-version';
import { AccountFailures, statusEvent } from '../../mirror/account-failures';
import { ChangeFeed } from '../../mirror/change-feed';
import { forEachLimit, KeyedSerial } from '../../mirror/concurrency';
import { FolderDeltaService } from '../../mirror/folder-delta.service';
import { MailboxLock } from '../../mirror/mailbox-lock';
import { locator } from '../../mirror/locate';
import {
  MIRROR_SETTINGS,
  ROUND_SETTINGS,
  type MirrorSettings,
  type RoundSettings,
} from '../../mirror/mirror.settings';
import { providerOf } from '../../mirror/provider-of';
import { SubscriptionRequests } from '../subscription-requests';
import { SYNC_SLOTS, type SyncSlots } from '../sync-slots';
import { SyncMailboxCommand, type SyncMailboxOutcome } from './sync-mailbox.command';
import { SyncProgress, type SyncTotals } from './sync-progress';

/** How long a sync waits for a notification round (or another sync) of the same mailbox to finish. */
export const SYNC_LOCK_WAIT_MS = 60_000;

/**
 * While first screens are being written, the first syncs of a process together ask for one page per this many ms
 * (`yieldToFirstScreens`).
 */
export const FIRST_SCREENS_PASS_MS = 2_000;

/**
 * Mirrors one mailbox through its provider's adapter: the folder tree, then each folder's changes (up to
 * `folderParallelism` at once) from its stored next-page cursor, else its caught-up cursor, else from scratch,
 * holding the mailbox lock throughout. Each page is applied
 * in one transaction together with the folder's next link, so a crash resumes after the last committed page and a
 * redelivered request changes nothing. A resync of a mailbox that was synced before logs and announces what it
 * changed (`mail.changed`), like a notification round. Events go out only after the state they announce committed.
 */
@CommandHandler(SyncMailboxCommand)
export class SyncMailboxHandler implements ICommandHandler<SyncMailboxCommand, SyncMailboxOutcome> {
  private readonly logger = new Logger('SyncMailbox');

  constructor(
    private readonly accounts: MailAccountSyncRepository,
    private readonly folders: MailFoldersRepository,
    private readonly messages: MessagesRepository,
    private readonly events: DomainEventsPublisher,
    private readonly cacheVersion: AccountCacheVersion,
    private readonly providers: ProviderRegistry,
    @Inject(MIRROR_SETTINGS) private readonly settings: MirrorSettings,
    private readonly delta: FolderDeltaService,
    private readonly lock: MailboxLock,
    private readonly failures: AccountFailures,
    private readonly subscriptions: SubscriptionRequests,
    private readonly dataSource: DataSource,
    @Inject(SYNC_SLOTS) private readonly slots: SyncSlots,
    @Inject(ROUND_SETTINGS) private readonly rounds: Pick<RoundSettings, 'maxLookups'>,
  ) {}

  async execute({ request, signal }: SyncMailboxCommand): Promise<SyncMailboxOutcome> {
    const account = await this.accounts.findForSync(request.accountId);
    if (!account) {
      // unlinked since the request (a catch-up asked just before): normal operation, nothing to report
      this.logger.debug(`sync of account ${request.accountId} skipped: no such account`);
      return 'skipped';
    }
    if (account.status === 'reauth_required') {
      this.logger.log(`sync of account ${request.accountId} skipped: it needs re-authorization`);
      return 'skipped';
    }
    return this.lock.run(account.id, SYNC_LOCK_WAIT_MS, signal, async (locked) => {
      const previous = await this.accounts.markSyncStarted(account.id);
      if (previous === null) {
        this.logger.log(
          `sync of account ${account.id} skipped: it was removed or needs re-authorization meanwhile`,
        );
        return 'skipped';
      }
      if (previous !== 'syncing') await this.announce(statusEvent(account, 'syncing'));
      try {
        return await this.sync(account, locked);
      } catch (err) {
        return this.failures.settle(err, account);
      }
    });
  }

  private async sync(account: AccountForSync, signal: AbortSignal): Promise<SyncMailboxOutcome> {
    const client = this.providers.mailbox(providerOf(account));
    // Once the mailbox was synced, every later run is incremental: what it changes is news for dashboards. So is
    // a folder resumed from its deltaLink while the mailbox's first sync is still going on.
    const synced = Boolean(account.syncCompletedAt);
    const feed = new ChangeFeed(account, (e) => this.events.publish(e), this.logger);
    // A mailbox syncs in full in one of this process's slots. One that has to wait for a slot (many linked at
    // once) shows its first screen first: its folder tree and the Inbox's newest page now, the rest in its turn.
    let slot = this.slots.tryAcquire();
    let ahead = false;
    try {
      if (!slot) {
        if (!synced)
          ahead = await this.slots.firstScreen(() => this.firstScreenAhead(account, client, signal));
        slot = await this.slots.acquire(signal);
      }
      return await this.syncInSlot(account, client, feed, synced, ahead, signal);
    } finally {
      slot?.();
    }
  }

  private async syncInSlot(
    account: AccountForSync,
    client: MailboxReader,
    feed: ChangeFeed,
    synced: boolean,
    /** the Inbox's newest page is written already (`firstScreenAhead`) */
    ahead: boolean,
    signal: AbortSignal,
  ): Promise<SyncMailboxOutcome> {
    const { messagesTotal } = await this.delta.refreshFolders(account, client, synced ? feed : undefined);
    signal.throwIfAborted();

    const folders = await this.folders.listForSync(account.id);
    const progress = this.progress(account, { foldersTotal: folders.length, messagesTotal });
    // A folder with a cursor reads changes while the other folders' pages commit, as a round does: its pages decide
    // where messages are and write holding their ids (one KeyedSerial for the whole sync), and a listed message the
    // mirror holds in another folder is written only where the provider has it now (`locate`), so a page fetched
    // before a move cannot put the message back with older data after the newer folder's page committed.
    const serial = new KeyedSerial();
    const locate = locator(client, this.rounds.maxLookups);
    try {
      await forEachLimit(folders, this.settings.folderParallelism, signal, (folder, folderSignal) =>
        this.delta
          .syncFolder({
            account,
            client,
            folder,
            signal: folderSignal,
            ...(synced || folder.deltaLink !== null ? { feed, serial, locate } : {}),
            ...(!synced && !ahead && preview(folder)
              ? { beforeFirstPage: () => this.firstScreen(account, client, folder, progress) }
              : {}),
            onPage: (messages, done) => progress.pageCommitted(messages, done),
            // a first sync's pages give way to the first screens of mailboxes waiting for a slot
            ...(!synced
              ? { beforeFetch: () => this.slots.yieldToFirstScreens(FIRST_SCREENS_PASS_MS, folderSignal) }
              : {}),
          })
          .then(() => undefined),
      );
    } finally {
      await feed.drain();
    }

    // Moves between folders change the source folder's counts too: settle every folder once at the end.
    await this.folders.recount(undefined, account.id);
    const unfinished = (await this.folders.listForSync(account.id)).filter((f) => !f.deltaLink || f.nextLink);
    if (unfinished.length > 0) {
      throw new Error(`SYNC_INCOMPLETE: ${unfinished.length} folder(s) without a deltaLink after the sync`);
    }
    await this.accounts.markSynced(undefined, account.id);
    await this.cacheVersion.bump(account.id);
    await this.events.publish({
      type: 'sync.completed',
      v: 1,
      accountId: account.id,
      userId: account.userId,
      folders: folders.length,
      messages: await this.messages.count(account.id),
      at: now(),
    });
    this.logger.log(`account ${account.id} synced: ${folders.length} folders`);
    // Watch channels (Graph subscriptions) are kept by the subscriptions feature; a provider watched over a
    // connection of ours (IMAP IDLE) has its own watcher, which catches up on every connect.
    if (this.providers.adapter(providerOf(account).provider).watching === 'channels') {
      await this.subscriptions.ensure(account.id, 'synced');
    }
    return 'completed';
  }

  /**
   * A first sync's first screen: the Inbox's newest page, written before the rest of the mailbox so a user sees
   * their latest mail within a second or two of linking. Advisory: a failure here only costs that head start.
   */
  private async firstScreen(
    account: AccountForSync,
    client: MailboxReader,
    folder: FolderSyncState,
    progress: SyncProgress,
  ): Promise<number> {
    if (!client.newest || this.settings.firstScreenSize === 0) return 0;
    try {
      const newest = await client.newest(folder.graphId, this.settings.firstScreenSize);
      const written = await this.delta.writePreview(account, folder.graphId, newest);
      if (written > 0) await progress.reportNow();
      return written;
    } catch (err) {
      this.logger.warn(`first screen of account ${account.id} not written ahead: ${describeError(err)}`);
      return 0;
    }
  }

  /**
   * The first screen of a first sync that waits for its slot: the Inbox's row, then its newest page, with the Inbox
   * marked for a rebuild first, so that its from-scratch read in the sync's turn removes whatever of this page is
   * gone by then (a message deleted meanwhile would otherwise stay: a from-scratch read lists only what exists).
   * A provider that can name its Inbox (`inbox`) is asked for that folder alone, one request, and the tree is read
   * in the sync's turn; the others' whole tree is read now. Answers whether the Inbox was handled here (then the
   * sync's turn does not write the page again).
   */
  private async firstScreenAhead(
    account: AccountForSync,
    client: MailboxReader,
    signal: AbortSignal,
  ): Promise<boolean> {
    if (!client.newest || this.settings.firstScreenSize === 0) return false;
    let inboxRowChanged = false;
    let messagesTotal: number | undefined;
    if (client.inbox) inboxRowChanged = await this.folders.upsertFolder(account.id, await client.inbox());
    else ({ messagesTotal } = await this.delta.refreshFolders(account, client));
    signal.throwIfAborted();
    const folders = await this.folders.listForSync(account.id);
    // totals unknown (0) until the tree is read: a dashboard shows no progress bar yet, only refetches the list
    const totals: SyncTotals =
      messagesTotal === undefined
        ? { foldersTotal: 0, messagesTotal: 0 }
        : { foldersTotal: folders.length, messagesTotal };
    const inbox = folders.find(preview);
    if (!inbox) return false;
    await this.dataSource.transaction((m) => this.folders.startRebuild(m, account.id, inbox.graphId));
    const written = await this.firstScreen(account, client, inbox, this.progress(account, totals));
    // a page written bumped the cache version already; an empty Inbox's new row must reach cached folder lists too
    if (inboxRowChanged && written === 0) await this.cacheVersion.bump(account.id);
    return true;
  }

  /**
   * The sync's `sync.progress` reports: each published (as the page's own events go out), then kept on the account
   * (`GET /accounts` carries the latest, so a dashboard reloaded mid-sync shows it). Both advisory; reports run one
   * at a time, so the stored one is always the latest.
   */
  private progress(account: AccountForSync, totals: SyncTotals): SyncProgress {
    const rule = {
      everyPages: this.settings.progressEveryPages,
      minIntervalMs: this.settings.progressMinIntervalMs,
    };
    return new SyncProgress(totals, rule, async (p) => {
      const at = now();
      await this.announce({
        type: 'sync.progress',
        v: 1,
        accountId: account.id,
        userId: account.userId,
        ...p,
        at,
      });
      try {
        await this.accounts.saveProgress(account.id, { ...p, at });
      } catch (err) {
        this.logger.warn(`sync progress of account ${account.id} not kept: ${describeError(err)}`);
      }
    });
  }

  /** Advisory events (progress, syncing) never fail the sync. */
  private async announce(event: Parameters<DomainEventsPublisher['publish']>[0]): Promise<void> {
    try {
      await this.events.publish(event);
    } catch (err) {
      this.logger.warn(
        `${event.type} event for account ${event.accountId} not published: ${describeError(err)}`,
      );
    }
  }
}

const now = () => new Date().toISOString();

/** the folder whose newest page a first sync writes first: the Inbox, when it is read from scratch */
const preview = (folder: FolderSyncState): boolean =>
  folder.wellKnownName === 'inbox' && folder.deltaLink === null && folder.nextLink === null;
