import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { DomainEvent, MailChange, SyncRequested } from '@email-core/contracts';
import type {
  AccountForSync,
  FolderLinks,
  FolderSyncState,
  MailAccountSyncRepository,
  MailChangesRepository,
  MailFoldersRepository,
  MessagesRepository,
  NewMailChange,
} from '@email-core/database';
import { PermanentFailure } from '@email-core/kafka';
import { MetricsRegistry, parseExposition, sumOf } from '@email-core/metrics';
import {
  CredentialsNotFoundError,
  CursorLostError,
  ProviderRegistry,
  ReauthRequiredError,
  type ChangesPage,
  type MailboxReader,
  type RemoteFolder,
  type RemoteMessage,
} from '@email-core/providers';
import { ConsumerMetrics } from '../../messaging/consumer-metrics';
import type { DomainEventsPublisher } from '../../messaging/domain-events.publisher';
import type { AccountCacheVersion } from '../../mirror/account-cache-version';
import { AccountFailures } from '../../mirror/account-failures';
import { FolderDeltaService, LIVE_PAGE_MAX_ROWS } from '../../mirror/folder-delta.service';
import type { MailboxLock } from '../../mirror/mailbox-lock';
import { scriptedProvider } from '../../mirror/testing/test-providers';
import type { SubscriptionRequests } from '../subscription-requests';
import { SyncSlots } from '../sync-slots';
import { SyncMailboxCommand } from './sync-mailbox.command';
import { SyncMailboxHandler } from './sync-mailbox.handler';

const ACCOUNT = '7f0c1f7e-5d0a-4a53-9a53-2b8f7f9b8a11';

/** A scripted page, its cursors named as Graph names them (a nextLink or a deltaLink). */
interface DeltaPage {
  messages: RemoteMessage[];
  removedIds: string[];
  nextLink?: string;
  deltaLink?: string;
}
/** Where a read started: a folder (from scratch) or a stored cursor; or a first screen's newest page. */
/** What the provider was asked: a folder's changes from scratch or a cursor, its newest page, the Inbox, the tree. */
type DeltaStart = { folderId: string } | { link: string } | { newest: string } | 'inbox' | 'tree';

const asChangesPage = (p: DeltaPage): ChangesPage => ({
  messages: p.messages,
  removedIds: p.removedIds,
  ...(p.nextLink === undefined ? {} : { nextCursor: p.nextLink }),
  ...(p.deltaLink === undefined ? {} : { cursor: p.deltaLink }),
});
const USER = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';

const folder = (id: string, totalItemCount = 0): RemoteFolder => ({
  id,
  parentFolderId: null,
  displayName: id,
  wellKnownName: null,
  totalItemCount,
  unreadItemCount: 0,
});
const msg = (id: string): RemoteMessage => ({ id }) as RemoteMessage;

/** Everything the handler touches, in memory, with one ordered log of what happened. */
function harness(
  opts: {
    account?: AccountForSync | null;
    states?: Partial<FolderSyncState>[];
    /** the process's sync slots (default: one, free) */
    slots?: SyncSlots;
    firstScreenSize?: number;
    /** the folder the mirror holds each message in (the page's look-up of its rows) */
    held?: Record<string, string>;
  } = {},
) {
  const log: string[] = [];
  /** the folders whose pages were written as a live round's (`applyPage`'s `live`) */
  const live: string[] = [];
  const events: DomainEvent[] = [];
  const states = new Map<string, FolderSyncState>(
    (opts.states ?? []).map((s) => [
      s.graphId as string,
      {
        graphId: s.graphId as string,
        parentGraphId: null,
        displayName: '',
        wellKnownName: null,
        nextLink: null,
        deltaLink: null,
        rebuilding: false,
        ...s,
      },
    ]),
  );
  const account =
    opts.account === undefined ? { id: ACCOUNT, userId: USER, status: 'syncing' as const } : opts.account;
  let status = account?.status ?? null;
  let removed = false;
  /** the progress reports kept on the account (`mail_accounts.sync_progress`), in order */
  const savedProgress: unknown[] = [];
  const progressStore = { fail: false };
  const accounts = {
    findForSync: () => Promise.resolve(removed ? null : account),
    saveProgress: (_id: string, p: unknown) => {
      if (progressStore.fail) return Promise.reject(new Error('database unreachable'));
      savedProgress.push(p);
      return Promise.resolve();
    },
    markSyncStarted: () => {
      const previous = status === 'reauth_required' ? null : status;
      if (previous) status = 'syncing';
      return Promise.resolve(previous);
    },
    markSynced: () => {
      log.push('synced');
      status = 'synced';
      return Promise.resolve(true);
    },
    markReauthRequired: (_id: string, reason: string) => {
      log.push(`reauth:${reason}`);
      status = 'reauth_required';
      return Promise.resolve();
    },
  };
  const known = (f: RemoteFolder): boolean => {
    if (states.has(f.id)) return false;
    states.set(f.id, {
      graphId: f.id,
      parentGraphId: null,
      wellKnownName: f.wellKnownName,
      displayName: f.displayName,
      nextLink: null,
      deltaLink: null,
      rebuilding: false,
    });
    return true;
  };
  const folders = {
    upsertFolders: (_a: string, tree: RemoteFolder[]) => {
      for (const f of tree) known(f);
      return Promise.resolve({ upserted: tree.length, removed: 0 });
    },
    upsertFolder: (_a: string, f: RemoteFolder) => {
      log.push(`folder:${f.id}`);
      return Promise.resolve(known(f));
    },
    listForSync: () => Promise.resolve([...states.values()].map((s) => ({ ...s }))),
    saveLinks: (_m: unknown, _a: string, id: string, links: FolderLinks) => {
      const s = states.get(id) as FolderSyncState;
      s.nextLink = links.deltaLink ? null : (links.nextLink ?? null);
      s.deltaLink = links.deltaLink ?? s.deltaLink;
      log.push(`links:${id}:${links.nextLink ?? links.deltaLink}`);
      return Promise.resolve();
    },
    // the common page's counts and links in one statement: its links as saveLinks stores them, its rows' counts
    settlePage: async (
      _m: unknown,
      a: string,
      id: string,
      settle: { links: FolderLinks; alsoRead?: string[] },
    ) => {
      await folders.saveLinks(undefined, a, id, settle.links);
      return [...new Set([id, ...(settle.alsoRead ?? [])])].map((folderId) => ({
        folderId,
        totalCount: 1,
        unreadCount: 0,
      }));
    },
    startRebuild: (_m: unknown, _a: string, id: string) => {
      const s = states.get(id) as FolderSyncState;
      s.nextLink = null;
      s.deltaLink = null;
      s.rebuilding = true;
      log.push(`reset:${id}`);
      return Promise.resolve();
    },
    markSeen: (_m: unknown, _a: string, id: string, ids: string[]) => {
      log.push(`seen:${id}:${ids.join(',')}`);
      return Promise.resolve();
    },
    // the rebuild's last page removes what no page listed: here one old message of the folder
    finishRebuild: (_m: unknown, _a: string, id: string) => {
      (states.get(id) as FolderSyncState).rebuilding = false;
      log.push(`sweep:${id}`);
      return Promise.resolve([`old-of-${id}`]);
    },
    recount: () => Promise.resolve(),
    settleCounts: () => Promise.resolve(),
    lockFolders: () => Promise.resolve(),
    countsOf: (_m: unknown, _a: string, ids: string[]) =>
      Promise.resolve(ids.map((folderId) => ({ folderId, totalCount: 1, unreadCount: 0 }))),
  };
  const messages = {
    applyPage: (
      _m: unknown,
      _a: string,
      id: string,
      page: ChangesPage,
      _relocate?: unknown,
      applyOpts: { live?: boolean } = {},
    ) => {
      log.push(`page:${id}:${page.messages.length}`);
      if (applyOpts.live) live.push(id);
      return Promise.resolve({
        upserted: page.messages.length,
        removed: page.removedIds.length,
        upsertedIds: page.messages.map((m) => m.id),
        // the rows already existed (their changes are logged as upserted)
        createdIds: [],
        removedIds: page.removedIds,
        movedFrom: [],
        relocated: [],
        counts: [],
        countsUnknown: false,
      });
    },
    count: () => Promise.resolve(42),
    foldersOf: (_a: string, ids: string[]) =>
      Promise.resolve(new Map(ids.flatMap((id) => (opts.held?.[id] ? [[id, opts.held[id]] as const] : [])))),
  };
  const dataSource = {
    transaction: async <T>(fn: (m: unknown) => Promise<T>) => {
      const result = await fn({});
      log.push('commit');
      return result;
    },
    // a live page's transaction (inGenericPlanTransaction): opened and committed on its runner's connection
    createQueryRunner: () => ({
      manager: {},
      connect: () =>
        Promise.resolve({
          query: (text: string) => {
            if (!text.startsWith('COMMIT')) return Promise.resolve([]);
            log.push('commit');
            return Promise.resolve([{ rows: [] }, { rows: [{ lsn: '0/2A' }] }]);
          },
        }),
      release: () => Promise.resolve(),
    }),
  };
  const publisher = {
    publish: (e: DomainEvent) => {
      events.push(e);
      log.push(`event:${e.type}`);
      return Promise.resolve();
    },
  };
  let bumps = 0;
  /** the WAL position each bump was given (a live page's, read with its commit), in order */
  const bumpPositions: Array<number | undefined> = [];
  const cache = {
    bump: (_accountId: string, walPosition?: number) => {
      bumps += 1;
      bumpPositions.push(walPosition);
      return Promise.resolve();
    },
  };
  let seq = 0;
  const changes = {
    record: (_m: unknown, _a: string, list: NewMailChange[]): Promise<MailChange[]> => {
      log.push(`record:${list.length}`);
      return Promise.resolve(list.map((c) => ({ ...c, seq: ++seq })));
    },
  };
  const lock = {
    run: (_a: string, _w: number, signal: AbortSignal, work: (s: AbortSignal) => Promise<unknown>) => {
      log.push('lock');
      return work(signal).finally(() => log.push('unlock'));
    },
  };
  const subscriptions = {
    ensure: (_a: string, reason: string) => {
      log.push(`ensure:${reason}`);
      return Promise.resolve();
    },
  };
  const graph: { client: MailboxReader; calls: DeltaStart[] } = {
    calls: [],
    client: {
      listFolderTree: () => Promise.resolve([]),
      changes: () => Promise.reject(new Error('unscripted')),
      folderOf: () => Promise.resolve(null),
    },
  };
  const settings = {
    pageSize: 50,
    folderParallelism: 1,
    pageWriters: 2,
    firstScreenSize: opts.firstScreenSize ?? 0,
    progressEveryPages: 2,
    progressMinIntervalMs: 60_000,
  };
  const metricsRegistry = new MetricsRegistry({ defaultMetrics: false });
  /** email_core_sync_messages_written_total of a provider */
  const written = async (provider: string) =>
    sumOf(parseExposition(await metricsRegistry.metrics()), 'email_core_sync_messages_written_total', {
      provider,
    });
  const handler = new SyncMailboxHandler(
    accounts as unknown as MailAccountSyncRepository,
    folders as unknown as MailFoldersRepository,
    messages as unknown as MessagesRepository,
    publisher as unknown as DomainEventsPublisher,
    cache as unknown as AccountCacheVersion,
    new ProviderRegistry(
      [
        scriptedProvider(() => graph.client),
        scriptedProvider(() => graph.client, { name: 'imap', watching: 'connection' }),
      ],
      ['outlook', 'imap'],
    ),
    settings,
    new FolderDeltaService(
      dataSource as unknown as DataSource,
      folders as unknown as MailFoldersRepository,
      messages as unknown as MessagesRepository,
      changes as unknown as MailChangesRepository,
      cache as unknown as AccountCacheVersion,
      settings,
      new ConsumerMetrics(metricsRegistry),
    ),
    lock as unknown as MailboxLock,
    new AccountFailures(
      accounts as unknown as MailAccountSyncRepository,
      publisher as unknown as DomainEventsPublisher,
    ),
    subscriptions as unknown as SubscriptionRequests,
    dataSource as unknown as DataSource,
    opts.slots ?? new SyncSlots(1),
    { maxLookups: 100 },
  );
  /** Graph answers by start: a folder id or a link, each mapped to a page (or an error to throw). */
  const script = (
    tree: RemoteFolder[],
    pages: Record<string, DeltaPage | Error | Array<DeltaPage | Error>>,
    /** a folder's newest messages (the first screen) */
    newest?: Record<string, RemoteMessage[]>,
    /** the provider names its Inbox (`inbox()`: the tree's folder whose well-known name is inbox) */
    namesInbox = false,
  ) => {
    graph.client = {
      ...(namesInbox
        ? {
            inbox: () => {
              graph.calls.push('inbox');
              const inbox = tree.find((f) => f.wellKnownName === 'inbox');
              return inbox ? Promise.resolve(inbox) : Promise.reject(new Error('no inbox'));
            },
          }
        : {}),
      ...(newest
        ? {
            newest: (folderId: string) => {
              graph.calls.push({ newest: folderId });
              return Promise.resolve(newest[folderId] ?? []);
            },
          }
        : {}),
      folderOf: () => Promise.resolve(null),
      listFolderTree: () => {
        if (namesInbox) graph.calls.push('tree');
        return Promise.resolve(tree);
      },
      changes: (from) => {
        const start = 'cursor' in from ? { link: from.cursor } : from;
        graph.calls.push(start);
        const key = 'folderId' in start ? start.folderId : start.link;
        const entry = pages[key];
        const answer = Array.isArray(entry) ? entry.shift() : entry;
        if (answer === undefined) return Promise.reject(new Error(`no page for ${key}`));
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(asChangesPage(answer));
      },
    };
  };
  const request: SyncRequested = {
    type: 'sync.requested',
    v: 1,
    accountId: ACCOUNT,
    reason: 'linked',
    requestedAt: new Date().toISOString(),
  };
  const run = (signal?: AbortSignal) => handler.execute(new SyncMailboxCommand(request, signal));
  /** the account's row goes (an unlink), with its credentials */
  const remove = () => {
    removed = true;
  };
  return {
    log,
    live,
    events,
    states,
    graph,
    script,
    run,
    remove,
    status: () => status,
    written,
    savedProgress,
    progressStore,
    bumps: () => bumps,
    bumpPositions,
  };
}

describe('SyncMailboxHandler', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  it('resumes each folder from its nextLink, else its deltaLink, else from scratch, one transaction per page', async () => {
    const h = harness({
      states: [
        { graphId: 'a', nextLink: 'next-a-2' },
        { graphId: 'b', deltaLink: 'delta-b-1' },
      ],
    });
    h.script([folder('a', 4), folder('b', 1), folder('c', 2)], {
      'next-a-2': { messages: [msg('1'), msg('2')], removedIds: [], deltaLink: 'delta-a-2' },
      'delta-b-1': { messages: [], removedIds: ['x'], deltaLink: 'delta-b-2' },
      c: { messages: [msg('3')], removedIds: [], nextLink: 'next-c-1' },
      'next-c-1': { messages: [msg('4')], removedIds: [], deltaLink: 'delta-c-1' },
    });

    expect(await h.run()).toBe('completed');
    expect(h.graph.calls).toEqual([
      { link: 'next-a-2' },
      { link: 'delta-b-1' },
      { folderId: 'c' },
      { link: 'next-c-1' },
    ]);
    expect(h.log).toEqual([
      'lock',
      'page:a:2',
      'links:a:delta-a-2',
      'commit',
      // b resumes from its deltaLink: incremental, so what it changed is logged and announced
      'page:b:0',
      'links:b:delta-b-2',
      'record:1',
      'commit',
      'event:sync.progress',
      'event:mail.changed',
      // c syncs from scratch with two page writers: its second page's rows are written while the first page's
      // transaction is still open, but its cursor only once the first page committed
      'page:c:1',
      'links:c:next-c-1',
      'page:c:1',
      'commit',
      'links:c:delta-c-1',
      'commit',
      'event:sync.progress',
      'synced',
      'event:sync.completed',
      // the subscription manager is asked for the account's subscription once the mirror is complete
      'ensure:synced',
      'unlock',
    ]);
    expect(h.events.at(-1)).toMatchObject({
      type: 'sync.completed',
      accountId: ACCOUNT,
      userId: USER,
      folders: 3,
      messages: 42,
    });
    expect(h.events[0]).toMatchObject({
      type: 'sync.progress',
      foldersTotal: 3,
      foldersDone: 2,
      messagesSynced: 2,
      // Graph's folder totals, as the tree fetched at the start of this sync reported them
      messagesTotal: 7,
    });
    expect(h.events.filter((e) => e.type === 'sync.progress').at(-1)).toMatchObject({
      foldersDone: 3,
      messagesSynced: 4,
      messagesTotal: 7,
    });
    // each report was kept on the account as it went out, with the same figures and time (GET /accounts)
    expect(h.savedProgress).toEqual(
      h.events
        .filter((e) => e.type === 'sync.progress')
        .map(({ foldersTotal, foldersDone, messagesSynced, messagesTotal, at }) => ({
          foldersTotal,
          foldersDone,
          messagesSynced,
          messagesTotal,
          at,
        })),
    );
  });

  it('still reports and completes when the progress cannot be kept on the account (advisory)', async () => {
    const h = harness();
    h.progressStore.fail = true;
    h.script([folder('a', 2)], {
      a: { messages: [msg('1')], removedIds: [], nextLink: 'next-a-1' },
      'next-a-1': { messages: [msg('2')], removedIds: [], deltaLink: 'delta-a-1' },
    });
    expect(await h.run()).toBe('completed');
    expect(h.savedProgress).toEqual([]);
    expect(h.events.map((e) => e.type)).toEqual(['sync.progress', 'sync.completed']);
  });

  it('counts the messages each page wrote (email_core_sync_messages_written_total), by provider', async () => {
    const outlook = harness();
    outlook.script([folder('a', 3)], {
      a: { messages: [msg('1'), msg('2')], removedIds: [], nextLink: 'next-a-1' },
      'next-a-1': { messages: [msg('3')], removedIds: ['x'], deltaLink: 'delta-a-1' },
    });
    expect(await outlook.run()).toBe('completed');
    expect(await outlook.written('outlook')).toBe(3);
    const imap = harness({ account: { id: ACCOUNT, userId: USER, status: 'syncing', provider: 'imap' } });
    imap.script([folder('a', 1)], { a: { messages: [msg('1')], removedIds: [], deltaLink: 'd' } });
    expect(await imap.run()).toBe('completed');
    expect(await imap.written('imap')).toBe(1);
    expect(await imap.written('outlook')).toBe(0);
  });

  it('a resync of a synced mailbox logs every change it applies and announces it with seqs and counts', async () => {
    const h = harness({
      account: { id: ACCOUNT, userId: USER, status: 'synced', syncCompletedAt: new Date() },
      states: [{ graphId: 'a', deltaLink: 'delta-a-1' }],
    });
    // b is new since the last sync: a full delta, but still news for the dashboards
    h.script([folder('a'), folder('b')], {
      'delta-a-1': { messages: [msg('1')], removedIds: ['x', 'y'], deltaLink: 'delta-a-2' },
      b: { messages: [msg('2')], removedIds: [], deltaLink: 'delta-b-1' },
    });
    expect(await h.run()).toBe('completed');
    const changed = h.events.filter((e) => e.type === 'mail.changed');
    expect(changed).toEqual([
      expect.objectContaining({
        accountId: ACCOUNT,
        userId: USER,
        seq: 3,
        changes: [
          { seq: 1, kind: 'removed', messageId: 'x', folderId: 'a' },
          { seq: 2, kind: 'removed', messageId: 'y', folderId: 'a' },
          { seq: 3, kind: 'upserted', messageId: '1', folderId: 'a' },
        ],
        folders: [{ folderId: 'a', totalCount: 1, unreadCount: 0 }],
      }),
      expect.objectContaining({
        seq: 4,
        changes: [{ seq: 4, kind: 'upserted', messageId: '2', folderId: 'b' }],
      }),
    ]);
    expect(changed[0]).not.toHaveProperty('notifiedAt');
    // announced before the sync says it completed
    expect(h.events.map((e) => e.type).slice(-1)).toEqual(['sync.completed']);
  });

  it("a synced mailbox's pages of up to LIVE_PAGE_MAX_ROWS rows run as live pages (prepared, generic plans), larger ones and a first sync's as text", async () => {
    const many = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => msg(`${prefix}${i}`));
    const resync = harness({
      account: { id: ACCOUNT, userId: USER, status: 'synced', syncCompletedAt: new Date() },
      states: [
        { graphId: 'a', deltaLink: 'delta-a-1' },
        { graphId: 'b', deltaLink: 'delta-b-1' },
      ],
    });
    resync.script([folder('a'), folder('b')], {
      // exactly the cap (messages and removals together), and one row over it
      'delta-a-1': {
        messages: many('a', LIVE_PAGE_MAX_ROWS - 2),
        removedIds: ['x', 'y'],
        deltaLink: 'delta-a-2',
      },
      'delta-b-1': { messages: many('b', LIVE_PAGE_MAX_ROWS + 1), removedIds: [], deltaLink: 'delta-b-2' },
    });
    expect(await resync.run()).toBe('completed');
    expect(resync.live).toEqual(['a']);
    // only the live page's bump carries a WAL position, the one read with its commit (0/2A); the others read theirs
    expect(resync.bumps()).toBeGreaterThan(1);
    expect(resync.bumpPositions.filter((p) => p !== undefined)).toEqual([42]);

    const first = harness({ states: [] });
    first.script([folder('a')], { a: { messages: many('a', 3), removedIds: [], deltaLink: 'delta-a-1' } });
    expect(await first.run()).toBe('completed');
    expect(first.log.filter((l) => l.startsWith('page:'))).toEqual(['page:a:3']);
    expect(first.live).toEqual([]);
  });

  it('a resync writes a listed message only in the folder the provider has it in now, not back where an older page saw it', async () => {
    // '1' moved a -> b: the mirror holds it in b already (b's newer page), and a's page read before the move lists it
    const h = harness({
      account: { id: ACCOUNT, userId: USER, status: 'synced', syncCompletedAt: new Date() },
      states: [
        { graphId: 'a', deltaLink: 'delta-a-1' },
        { graphId: 'b', deltaLink: 'delta-b-1' },
      ],
      held: { '1': 'b' },
    });
    h.script([folder('a'), folder('b')], {
      'delta-a-1': { messages: [msg('1'), msg('3')], removedIds: [], deltaLink: 'delta-a-2' },
      'delta-b-1': { messages: [], removedIds: [], deltaLink: 'delta-b-2' },
    });
    const asked: string[] = [];
    h.graph.client.folderOf = (id: string) => {
      asked.push(id);
      return Promise.resolve(id === '1' ? 'b' : 'a');
    };
    expect(await h.run()).toBe('completed');
    // a's page wrote '3' only; the provider was asked where '1' is, once
    expect(h.log).toContain('page:a:1');
    expect(h.log).not.toContain('page:a:2');
    expect(asked).toEqual(['1']);
  });

  it('a first sync logs nothing: it is not live news', async () => {
    const h = harness();
    h.script([folder('a')], { a: { messages: [msg('1')], removedIds: [], deltaLink: 'delta-a-1' } });
    expect(await h.run()).toBe('completed');
    expect(h.log.filter((l) => l.startsWith('record'))).toEqual([]);
    expect(h.events.some((e) => e.type === 'mail.changed')).toBe(false);
  });

  it('an empty mailbox completes at once', async () => {
    const h = harness();
    h.script([], {});
    expect(await h.run()).toBe('completed');
    expect(h.events).toMatchObject([{ type: 'sync.completed', folders: 0 }]);
  });

  it('a lost delta state resets that folder and syncs it from scratch', async () => {
    const h = harness({ states: [{ graphId: 'a', deltaLink: 'delta-a-old' }] });
    h.script([folder('a')], {
      'delta-a-old': new CursorLostError('gone'),
      a: { messages: [msg('1')], removedIds: [], deltaLink: 'delta-a-new' },
    });
    expect(await h.run()).toBe('completed');
    // a resumed from its deltaLink: the folder keeps its messages while it is fetched again, and its last page
    // removes (and logs as removed) those no page listed, together with what the page wrote
    expect(h.log.slice(0, 9)).toEqual([
      'lock',
      'reset:a',
      'commit',
      'page:a:1',
      'seen:a:1',
      'sweep:a',
      'links:a:delta-a-new',
      'record:2',
      'commit',
    ]);
    expect(h.states.get('a')).toMatchObject({ deltaLink: 'delta-a-new', nextLink: null, rebuilding: false });
  });

  it('gives up on a folder whose state keeps vanishing, leaving the message to the retry topic', async () => {
    const h = harness();
    h.script([folder('a')], {
      a: [new CursorLostError('1'), new CursorLostError('2'), new CursorLostError('3')],
    });
    await expect(h.run()).rejects.toBeInstanceOf(CursorLostError);
    expect(h.log.filter((l) => l.startsWith('reset'))).toHaveLength(2);
    expect(h.events.some((e) => e.type === 'sync.completed')).toBe(false);
  });

  it('a revoked grant marks the account, announces it, and ends the message', async () => {
    const h = harness();
    h.script([folder('a')], { a: new ReauthRequiredError('invalid_grant', '70008') });
    expect(await h.run()).toBe('reauth_required');
    expect(h.status()).toBe('reauth_required');
    expect(h.events).toMatchObject([
      { type: 'account.status', status: 'reauth_required', reason: 'invalid_grant', userId: USER },
    ]);
  });

  it('an account without stored tokens is a permanent failure (dead-lettered, not retried)', async () => {
    const h = harness();
    h.script([folder('a')], { a: new CredentialsNotFoundError(ACCOUNT) });
    await expect(h.run()).rejects.toBeInstanceOf(PermanentFailure);
  });

  it('drops a sync whose account was unlinked meanwhile (its credentials went with it): no dead letter', async () => {
    const h = harness();
    h.script([folder('a')], {});
    h.graph.client = {
      ...h.graph.client,
      changes: () => {
        h.remove();
        return Promise.reject(new CredentialsNotFoundError(ACCOUNT));
      },
    };
    expect(await h.run()).toBe('skipped');
    expect(h.status()).not.toBe('reauth_required');
    expect(h.events.map((e) => e.type)).not.toContain('account.status');
    expect(h.log).not.toContain('ensure:synced');
  });

  it('asks for a watch channel after a sync only for providers watched through channels (not IMAP)', async () => {
    const outlook = harness();
    outlook.script([], {});
    expect(await outlook.run()).toBe('completed');
    expect(outlook.log).toContain('ensure:synced');
    const imap = harness({ account: { id: ACCOUNT, userId: USER, status: 'syncing', provider: 'imap' } });
    imap.script([], {});
    expect(await imap.run()).toBe('completed');
    expect(imap.log).toContain('synced');
    expect(imap.log).not.toContain('ensure:synced');
  });

  it('skips a missing account and one that waits for re-authorization, without calling Graph', async () => {
    const missing = harness({ account: null });
    expect(await missing.run()).toBe('skipped');
    const revoked = harness({ account: { id: ACCOUNT, userId: USER, status: 'reauth_required' } });
    expect(await revoked.run()).toBe('skipped');
    expect([...missing.graph.calls, ...revoked.graph.calls]).toEqual([]);
    expect([...missing.events, ...revoked.events]).toEqual([]);
  });

  it('announces a synced account going back to syncing', async () => {
    const h = harness({ account: { id: ACCOUNT, userId: USER, status: 'synced' } });
    h.script([], {});
    await h.run();
    expect(h.events.map((e) => e.type)).toEqual(['account.status', 'sync.completed']);
    expect(h.events[0]).toMatchObject({ status: 'syncing' });
  });

  it('refuses a page that carries neither link', async () => {
    const h = harness();
    h.script([folder('a')], { a: { messages: [], removedIds: [] } });
    await expect(h.run()).rejects.toThrow(/BAD_CHANGES_PAGE/);
    expect(h.log).toEqual(['lock', 'unlock']);
  });

  it('stops at the next page boundary once its signal aborts, committing nothing more', async () => {
    const h = harness();
    const stop = new AbortController();
    h.script([folder('a')], {
      a: { messages: [msg('1')], removedIds: [], nextLink: 'next-a-1' },
      'next-a-1': { messages: [msg('2')], removedIds: [], deltaLink: 'delta-a' },
    });
    const first = h.graph.client.changes.bind(h.graph.client);
    h.graph.client.changes = async (start, size) => {
      const page = await first(start, size);
      stop.abort(new Error('stopping'));
      return page;
    };
    await expect(h.run(stop.signal)).rejects.toThrow('stopping');
    expect(h.log).toEqual(['lock', 'page:a:1', 'links:a:next-a-1', 'commit', 'unlock']);
    expect(h.states.get('a')).toMatchObject({ nextLink: 'next-a-1', deltaLink: null });
  });
  describe('first screen', () => {
    const inbox: RemoteFolder = { ...folder('inbox', 3), wellKnownName: 'inbox' };
    const inboxPages = {
      inbox: { messages: [msg('3'), msg('2'), msg('1')], removedIds: [], deltaLink: 'delta-inbox' },
    };
    const settle = async (done: () => boolean) => {
      for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setImmediate(r));
    };

    it('with a slot free, is written inside the Inbox read, after its first request (no rebuild)', async () => {
      const h = harness({ firstScreenSize: 2 });
      h.script([inbox], inboxPages, { inbox: [msg('3'), msg('2')] });
      expect(await h.run()).toBe('completed');
      expect(h.graph.calls).toEqual([{ folderId: 'inbox' }, { newest: 'inbox' }]);
      expect(h.log).not.toContain('reset:inbox');
      expect(h.log.slice(0, 3)).toEqual(['lock', 'page:inbox:2', 'commit']);
    });

    it('of a first sync waiting for a slot, is written before it waits: the Inbox marked for a rebuild, the page announced; the rest in its turn, sweeping what the page had that is gone', async () => {
      const slots = new SyncSlots(1);
      const busy = slots.tryAcquire();
      const h = harness({ slots, firstScreenSize: 2 });
      h.script([inbox], inboxPages, { inbox: [msg('3'), msg('gone')] });
      const done = h.run();
      await settle(() => slots.queued > 0);
      expect(slots.queued).toBe(1);
      expect(h.graph.calls).toEqual([{ newest: 'inbox' }]);
      expect(h.log).toEqual([
        'lock',
        'reset:inbox',
        'commit',
        'page:inbox:2',
        'commit',
        'event:sync.progress',
      ]);
      busy?.();
      expect(await done).toBe('completed');
      // its turn: no second first screen; the from-scratch read records what it lists and sweeps the rest
      expect(h.graph.calls).toEqual([{ newest: 'inbox' }, { folderId: 'inbox' }]);
      expect(h.log).toContain('seen:inbox:3,2,1');
      expect(h.log).toContain('sweep:inbox');
      expect(h.log.at(-1)).toBe('unlock');
      expect(slots.tryAcquire()).toBeDefined(); // its slot went back
    });

    it('of a provider that names its Inbox, reads only the Inbox ahead (its row, no totals yet), the tree in its turn', async () => {
      const slots = new SyncSlots(1);
      const busy = slots.tryAcquire();
      const h = harness({ slots, firstScreenSize: 2 });
      h.script(
        [inbox, folder('a', 1)],
        { ...inboxPages, a: { messages: [msg('a1')], removedIds: [], deltaLink: 'delta-a' } },
        { inbox: [msg('3'), msg('2')] },
        true,
      );
      const done = h.run();
      await settle(() => slots.queued > 0);
      expect(h.graph.calls).toEqual(['inbox', { newest: 'inbox' }]);
      expect(h.log).toEqual([
        'lock',
        'folder:inbox',
        'reset:inbox',
        'commit',
        'page:inbox:2',
        'commit',
        'event:sync.progress',
      ]);
      // the tree is not known yet: the report carries no totals (a dashboard shows no bar, refetches the list)
      expect(h.events.find((e) => e.type === 'sync.progress')).toMatchObject({
        foldersTotal: 0,
        messagesTotal: 0,
      });
      busy?.();
      expect(await done).toBe('completed');
      expect(h.graph.calls.slice(2, 3)).toEqual(['tree']);
      expect(h.graph.calls).toContainEqual({ folderId: 'a' });
      expect(h.log).toContain('sweep:inbox');
    });

    it("of a provider that names its Inbox, an empty Inbox's new row still reaches cached folder lists", async () => {
      const slots = new SyncSlots(1);
      const busy = slots.tryAcquire();
      const h = harness({ slots, firstScreenSize: 2 });
      h.script(
        [inbox],
        { inbox: { messages: [], removedIds: [], deltaLink: 'delta-inbox' } },
        { inbox: [] },
        true,
      );
      const done = h.run();
      await settle(() => slots.queued > 0);
      expect(h.graph.calls).toEqual(['inbox', { newest: 'inbox' }]);
      expect(h.bumps()).toBe(1);
      busy?.();
      expect(await done).toBe('completed');
    });

    it('a synced mailbox waiting for a slot just waits (no first screen)', async () => {
      const slots = new SyncSlots(1);
      const busy = slots.tryAcquire();
      const h = harness({
        slots,
        firstScreenSize: 2,
        account: { id: ACCOUNT, userId: USER, status: 'synced' },
      });
      h.script([], {}, {});
      const done = h.run();
      await settle(() => slots.queued > 0);
      expect(h.graph.calls).toEqual([]);
      busy?.();
      expect(await done).toBe('completed');
    });

    it("a first sync in its slot asks for no page while another mailbox's first screen is being written", async () => {
      const slots = new SyncSlots(2);
      let otherWritten!: () => void;
      const other = slots.firstScreen(() => new Promise<void>((r) => (otherWritten = r)));
      const h = harness({ slots });
      h.script([folder('a', 1)], { a: { messages: [msg('1')], removedIds: [], deltaLink: 'delta-a' } });
      const done = h.run();
      await settle(() => false);
      expect(h.graph.calls).toEqual([]);
      otherWritten();
      await other;
      expect(await done).toBe('completed');
      expect(h.graph.calls).toEqual([{ folderId: 'a' }]);
    });

    it('a synced mailbox (an incremental sync, live news) does not wait for first screens', async () => {
      const slots = new SyncSlots(2);
      void slots.firstScreen(() => new Promise<void>(() => undefined)); // never done
      const h = harness({
        slots,
        account: { id: ACCOUNT, userId: USER, status: 'synced', syncCompletedAt: new Date() },
        states: [{ graphId: 'a', deltaLink: 'delta-a-0' }],
      });
      h.script([folder('a', 1)], {
        'delta-a-0': { messages: [msg('1')], removedIds: [], deltaLink: 'delta-a' },
      });
      expect(await h.run()).toBe('completed');
      expect(h.graph.calls).toEqual([{ link: 'delta-a-0' }]);
    });

    it('a sync whose signal aborts while it waits for a slot gives up without syncing', async () => {
      const slots = new SyncSlots(1);
      slots.tryAcquire();
      const h = harness({ slots, firstScreenSize: 2 });
      h.script([inbox], inboxPages, { inbox: [msg('3')] });
      const stop = new AbortController();
      const done = h.run(stop.signal);
      await settle(() => slots.queued > 0);
      stop.abort(new Error('rebalance'));
      await expect(done).rejects.toThrow('rebalance');
      expect(h.graph.calls).toEqual([{ newest: 'inbox' }]);
      expect(slots.queued).toBe(0);
    });
  });
});
