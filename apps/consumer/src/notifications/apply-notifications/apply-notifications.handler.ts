import { Inject, Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  MailAccountSyncRepository,
  MailFoldersRepository,
  MessagesRepository,
  type AccountForSync,
  type FolderSyncState,
} from '@email-core/database';
import { DomainEventsPublisher } from '../../messaging/domain-events.publisher';
import { AccountFailures } from '../../sync/account-failures';
import { ChangeFeed } from '../../sync/folder-delta/change-feed';
import { FolderDeltaService, type FolderDeltaResult } from '../../sync/folder-delta/folder-delta.service';
import {
  GRAPH_MAIL_CLIENT_FACTORY,
  type GraphMailClientFactory,
  type MailboxGraphClient,
} from '../../sync/graph-client.factory';
import { MailboxLock } from '../../sync/mailbox-lock';
import { forEachLimit } from '../../sync/sync-mailbox/sync-progress';
import { SYNC_SETTINGS, type SyncSettings } from '../../sync/sync.settings';
import { NOTIFICATION_SETTINGS, type NotificationSettings } from '../notifications.settings';
import { mapLimit, resolveAffectedFolders } from './affected-folders';
import { ApplyNotificationsCommand, type ApplyNotificationsOutcome } from './apply-notifications.command';
import { coalesce, type CoalescedRound } from './coalesce';

/** Passes of a round: the notified folders, then the folders removed messages turned up in (moves), once more. */
export const MAX_PASSES = 3;
/** Graph requests of one round's look-ups in flight at once (the client caps a mailbox at 4 anyway). */
const LOOKUP_CONCURRENCY = 4;

type Folders = Map<string, FolderSyncState>;

/**
 * One notification round for one mailbox, under the mailbox lock: resolve the folders the notifications touch,
 * refresh the folder tree if one of them is new, and run each one's incremental delta from its stored link (the
 * same per-folder loop the sync runs), logging and announcing what actually changed. Messages a delta removes
 * are looked up once, before the removal: one that still exists moved, goes straight to its new folder in the
 * mirror, and that folder's delta runs in a next pass. Duplicates, reordering and lost notifications all
 * converge, because the deltas report the mailbox's true state.
 */
@CommandHandler(ApplyNotificationsCommand)
export class ApplyNotificationsHandler implements ICommandHandler<
  ApplyNotificationsCommand,
  ApplyNotificationsOutcome
> {
  private readonly logger = new Logger('ApplyNotifications');

  constructor(
    private readonly accounts: MailAccountSyncRepository,
    private readonly folders: MailFoldersRepository,
    private readonly messages: MessagesRepository,
    private readonly delta: FolderDeltaService,
    private readonly lock: MailboxLock,
    private readonly failures: AccountFailures,
    private readonly events: DomainEventsPublisher,
    @Inject(GRAPH_MAIL_CLIENT_FACTORY) private readonly graph: GraphMailClientFactory,
    @Inject(SYNC_SETTINGS) private readonly sync: SyncSettings,
    @Inject(NOTIFICATION_SETTINGS) private readonly settings: NotificationSettings,
  ) {}

  async execute({
    accountId,
    notifications,
    signal,
    reconcile,
  }: ApplyNotificationsCommand): Promise<ApplyNotificationsOutcome> {
    const account = await this.accounts.findForSync(accountId);
    if (!account || account.status === 'reauth_required' || !account.syncCompletedAt) {
      // the first sync, still to complete, mirrors whatever these notifications are about
      this.logger.debug(
        `${notifications.length} notification(s)${reconcile ? ' and a reconciliation' : ''} of account ${accountId} skipped: ${
          !account
            ? 'no such account'
            : account.syncCompletedAt
              ? 'it needs re-authorization'
              : 'not synced yet'
        }`,
      );
      return 'skipped';
    }
    if (notifications.length === 0 && !reconcile) return 'applied';
    const round = notifications.length > 0 ? coalesce(notifications) : undefined;
    return this.lock.run(account.id, this.settings.lockWaitMs, signal, async (locked) => {
      try {
        await this.apply(account, round, reconcile, locked);
        return 'applied';
      } catch (err) {
        return this.failures.settle(err, account);
      }
    });
  }

  private async apply(
    account: AccountForSync,
    round: CoalescedRound | undefined,
    reconcile: boolean,
    signal: AbortSignal,
  ): Promise<void> {
    const client = await this.graph.forAccount(account.id);
    // a reconciliation answers no notification: its announcements carry no notification time
    const feed = new ChangeFeed(
      account,
      (e) => this.events.publish(e),
      this.logger,
      reconcile ? undefined : round?.notifiedAt,
    );
    try {
      let known: Folders;
      let targets: Set<string>;
      if (reconcile || !round) {
        // every folder (and the tree itself, which a lost notification may also have changed)
        known = await this.refreshFolders(account, client, feed);
        targets = new Set(known.keys());
      } else {
        known = await this.knownFolders(account.id);
        const affected = await resolveAffectedFolders(
          round,
          new Set(known.keys()),
          {
            mirrorFolders: (ids) => this.messages.foldersOf(account.id, ids),
            graphFolderOf: (id) => client.getMessageFolderId(id),
          },
          { maxLookups: this.settings.maxLookups, concurrency: LOOKUP_CONCURRENCY },
        );
        signal.throwIfAborted();
        if (affected.unknown.size > 0) known = await this.refreshFolders(account, client, feed);
        targets = affected.everyFolder ? new Set(known.keys()) : affected.folders;
      }
      for (let pass = 1; targets.size > 0; pass += 1) {
        if (pass > 1) known = await this.knownFolders(account.id); // the links the last pass stored
        // a folder still unknown after a refresh is one the mirror does not keep (hidden): nothing to run
        const run = [...targets].flatMap((id) => known.get(id) ?? []);
        const results = await this.runFolders(account, client, run, feed, signal);
        // A reconciliation just ran every folder, after every change it answers: a move's source and
        // destination both reported it (a removal deletes only from the folder that reports it), so there is
        // nothing to look up. What changes meanwhile is notified, or found by the next reconciliation.
        if (pass >= MAX_PASSES || reconcile) break;
        const next = await this.followUp(account, client, run, results, known, feed);
        known = next.known;
        targets = next.targets;
      }
    } finally {
      await feed.drain();
    }
    const { changes, lastSeq } = feed.totals;
    this.logger.debug(
      `account ${account.id}: ${round?.notifications ?? 0} notification(s), ${round?.items ?? 0} item(s)` +
        `${reconcile ? ', reconciliation' : ''} -> ${changes} change(s)${changes > 0 ? ` up to seq ${lastSeq}` : ''}`,
    );
  }

  private async runFolders(
    account: AccountForSync,
    client: MailboxGraphClient,
    folders: FolderSyncState[],
    feed: ChangeFeed,
    signal: AbortSignal,
  ): Promise<FolderDeltaResult[]> {
    const results: FolderDeltaResult[] = [];
    const locate = (ids: string[]) => this.locate(client, ids);
    await forEachLimit(folders, this.sync.folderParallelism, signal, async (folder, folderSignal) => {
      results.push(
        await this.delta.syncFolder({ account, client, folder, signal: folderSignal, feed, locate }),
      );
    });
    return results;
  }

  /** where messages are now (null: gone); undefined when they outnumber the look-ups a round may make */
  private async locate(
    client: MailboxGraphClient,
    ids: string[],
  ): Promise<Map<string, string | null> | undefined> {
    if (ids.length > this.settings.maxLookups) return undefined;
    const found = await mapLimit(ids, LOOKUP_CONCURRENCY, (id) => client.getMessageFolderId(id));
    return new Map(ids.map((id, i) => [id, found[i] ?? null]));
  }

  /**
   * What a pass turned up for the next one. A message a delta removed may only have moved (Graph names a move's
   * destination in a notification that can come late or never): where it is now decides. A folder that lost its
   * delta state was rebuilt from scratch, which hides where its old messages went: every other folder runs.
   */
  private async followUp(
    account: AccountForSync,
    client: MailboxGraphClient,
    ran: FolderSyncState[],
    results: FolderDeltaResult[],
    known: Folders,
    feed: ChangeFeed,
  ): Promise<{ targets: Set<string>; known: Folders }> {
    const justRan = new Set(ran.map((f) => f.graphId));
    const everyOther = () => new Set([...known.keys()].filter((id) => !justRan.has(id)));
    if (results.some((r) => r.reset)) return { targets: everyOther(), known };
    const located = new Map(results.flatMap((r) => [...r.locations]));
    const unknown = [...new Set(results.flatMap((r) => r.removedIds))].filter((id) => !located.has(id));
    if (located.size === 0 && unknown.length === 0) return { targets: new Set(), known };
    const more = await this.locate(client, unknown);
    if (!more) return { targets: everyOther(), known };
    const now = [...located.values(), ...more.values()];
    // a message moved straight to its new folder still has its old data: that folder's delta refreshes it
    const targets = new Set(now.filter((f): f is string => f !== null));
    if ([...targets].some((f) => !known.has(f))) {
      return { targets, known: await this.refreshFolders(account, client, feed) };
    }
    return { targets, known };
  }

  private async refreshFolders(
    account: AccountForSync,
    client: MailboxGraphClient,
    feed: ChangeFeed,
  ): Promise<Folders> {
    await this.delta.refreshFolders(account, client, feed);
    return this.knownFolders(account.id);
  }

  private async knownFolders(accountId: string): Promise<Folders> {
    return new Map((await this.folders.listForSync(accountId)).map((f) => [f.graphId, f]));
  }
}
