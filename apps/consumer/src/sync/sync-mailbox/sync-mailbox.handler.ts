import { Inject, Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import type { AccountStatus } from '@email-core/contracts';
import {
  MailAccountSyncRepository,
  MailFoldersRepository,
  MessagesRepository,
  type AccountForSync,
  type FolderSyncState,
} from '@email-core/database';
import {
  AccountTokensNotFoundError,
  ReauthRequiredError,
  SyncStateNotFoundError,
  type DeltaPage,
} from '@email-core/graph';
import { describeError, PermanentFailure } from '@email-core/kafka';
import { DomainEventsPublisher } from '../../messaging/domain-events.publisher';
import { AccountCacheVersion } from '../account-cache-version';
import {
  GRAPH_MAIL_CLIENT_FACTORY,
  type DeltaStart,
  type GraphMailClientFactory,
  type MailboxGraphClient,
} from '../graph-client.factory';
import { SYNC_SETTINGS, type SyncSettings } from '../sync.settings';
import { SyncMailboxCommand, type SyncMailboxOutcome } from './sync-mailbox.command';
import { forEachLimit, SyncProgress } from './sync-progress';

/** A folder whose token keeps expiring right after a reset is not reset forever: the message is retried later. */
const MAX_RESETS_PER_FOLDER = 2;

interface FolderRun {
  account: AccountForSync;
  client: MailboxGraphClient;
  progress: SyncProgress;
}

/**
 * Mirrors one mailbox: the folder tree, then a delta per folder (up to `folderParallelism` at once) from its
 * stored nextLink, else its deltaLink, else from scratch. Each page is applied in one transaction together with
 * the folder's next link, so a crash resumes after the last committed page and a redelivered request changes
 * nothing. Events go out only after the state they announce committed.
 */
@CommandHandler(SyncMailboxCommand)
export class SyncMailboxHandler implements ICommandHandler<SyncMailboxCommand, SyncMailboxOutcome> {
  private readonly logger = new Logger('SyncMailbox');

  constructor(
    private readonly dataSource: DataSource,
    private readonly accounts: MailAccountSyncRepository,
    private readonly folders: MailFoldersRepository,
    private readonly messages: MessagesRepository,
    private readonly events: DomainEventsPublisher,
    private readonly cacheVersion: AccountCacheVersion,
    @Inject(GRAPH_MAIL_CLIENT_FACTORY) private readonly graph: GraphMailClientFactory,
    @Inject(SYNC_SETTINGS) private readonly settings: SyncSettings,
  ) {}

  async execute({ request, signal }: SyncMailboxCommand): Promise<SyncMailboxOutcome> {
    const account = await this.accounts.findForSync(request.accountId);
    if (!account || account.status === 'reauth_required') {
      this.logger.log(
        `sync of account ${request.accountId} skipped: ${account ? 'it needs re-authorization' : 'no such account'}`,
      );
      return 'skipped';
    }
    const previous = await this.accounts.markSyncStarted(account.id);
    if (previous === null) {
      this.logger.log(
        `sync of account ${account.id} skipped: it was removed or needs re-authorization meanwhile`,
      );
      return 'skipped';
    }
    if (previous !== 'syncing') await this.announce(this.statusEvent(account, 'syncing'));

    try {
      return await this.sync(account, signal);
    } catch (err) {
      if (err instanceof AccountTokensNotFoundError) {
        // linking stores the tokens with the account, so retrying cannot help: straight to the dead-letter topic
        throw new PermanentFailure(err.message, 'ACCOUNT_TOKENS_NOT_FOUND');
      }
      if (!(err instanceof ReauthRequiredError)) throw err;
      // Not retried: only the user can fix it, by linking the mailbox again (which requests a new sync).
      await this.accounts.markReauthRequired(account.id, err.reason);
      await this.events.publish(this.statusEvent(account, 'reauth_required', err.reason));
      this.logger.warn(`account ${account.id} needs re-authorization: ${err.reason}`);
      return 'reauth_required';
    }
  }

  private async sync(account: AccountForSync, signal: AbortSignal): Promise<SyncMailboxOutcome> {
    const client = await this.graph.forAccount(account.id);
    const tree = await client.listFolderTree();
    signal.throwIfAborted();
    const changed = await this.folders.upsertFolders(account.id, tree);
    if (changed.upserted + changed.removed > 0) await this.cacheVersion.bump(account.id);

    const folders = await this.folders.listForSync(account.id);
    const progress = new SyncProgress(folders.length, this.settings.progressEveryPages, (p) =>
      this.announce({
        type: 'sync.progress',
        v: 1,
        accountId: account.id,
        userId: account.userId,
        ...p,
        at: now(),
      }),
    );
    await forEachLimit(folders, this.settings.folderParallelism, signal, (folder, folderSignal) =>
      this.syncFolder({ account, client, progress }, folder, folderSignal),
    );

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
    return 'completed';
  }

  private async syncFolder(run: FolderRun, folder: FolderSyncState, signal: AbortSignal): Promise<void> {
    const { account } = run;
    // The next page is fetched while the current one is written (Graph and Postgres overlap); its link is only
    // stored with its own page, so a crash still resumes after the last committed page.
    const fetchPage = (start: DeltaStart): Promise<DeltaPage> => {
      const page = run.client.deltaPage(start, this.settings.pageSize);
      page.catch(() => undefined); // awaited below, or abandoned when the folder stops early
      return page;
    };
    let pending = fetchPage(
      folder.nextLink
        ? { link: folder.nextLink }
        : folder.deltaLink
          ? { link: folder.deltaLink }
          : { folderId: folder.graphId },
    );
    let resets = 0;
    let pages = 0;
    for (;;) {
      signal.throwIfAborted();
      let page: DeltaPage;
      try {
        page = await pending;
      } catch (err) {
        if (!(err instanceof SyncStateNotFoundError) || resets >= MAX_RESETS_PER_FOLDER) throw err;
        resets += 1;
        this.logger.warn(
          `folder ${folder.graphId} of account ${account.id}: delta state lost; syncing it again`,
        );
        await this.folders.resetFolder(undefined, account.id, folder.graphId);
        await this.cacheVersion.bump(account.id);
        pending = fetchPage({ folderId: folder.graphId });
        pages = 0;
        continue;
      }
      const nextLink = page.nextLink ?? null;
      const deltaLink = page.deltaLink ?? null;
      if (deltaLink === null && nextLink === null) {
        throw new Error('GRAPH_BAD_DELTA_PAGE: neither a nextLink nor a deltaLink');
      }
      if (deltaLink === null && nextLink !== null) pending = fetchPage({ link: nextLink });
      const done = deltaLink !== null;
      pages += 1;
      const recount = done || pages % this.settings.progressEveryPages === 0;
      const applied = await this.dataSource.transaction(async (m) => {
        const result = await this.messages.applyPage(m, account.id, folder.graphId, page);
        await this.folders.saveLinks(m, account.id, folder.graphId, { nextLink, deltaLink });
        if (recount) await this.folders.recount(m, account.id, [folder.graphId]);
        return result;
      });
      if (applied.upserted + applied.removed > 0 || recount) await this.cacheVersion.bump(account.id);
      await run.progress.pageCommitted(page.messages.length, done);
      if (done) return;
    }
  }

  private statusEvent(
    account: AccountForSync,
    status: AccountStatus['status'],
    reason?: string,
  ): AccountStatus {
    return {
      type: 'account.status',
      v: 1,
      accountId: account.id,
      userId: account.userId,
      status,
      ...(reason === undefined ? {} : { reason: reason.slice(0, 500) }),
      at: now(),
    };
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
