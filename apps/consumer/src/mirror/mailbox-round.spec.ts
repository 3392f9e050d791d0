import { Logger } from '@nestjs/common';
import type { DomainEvent, MailboxPoke, MailboxPokeChange } from '@email-core/contracts';
import type {
  AccountForSync,
  FolderSyncState,
  MailAccountSyncRepository,
  MailFoldersRepository,
  MessagesRepository,
} from '@email-core/database';
import { currentCorrelationId, runWithCorrelation } from '@email-core/logging';
import { MetricsRegistry, parseExposition } from '@email-core/metrics';
import { CredentialsNotFoundError, ReauthRequiredError, type MailboxReader } from '@email-core/providers';
import { ConsumerMetrics } from '../messaging/consumer-metrics';
import type { DomainEventsPublisher } from '../messaging/domain-events.publisher';
import { AccountFailures } from './account-failures';
import type { ChangeFeed } from './change-feed';
import type { FolderDeltaResult, FolderDeltaRun, FolderDeltaService } from './folder-delta.service';
import type { MailboxLock } from './mailbox-lock';
import { MailboxRound } from './mailbox-round';
import { scriptedRegistry } from './testing/test-providers';

const ACCOUNT = '7f0c1f7e-5d0a-4a53-9a53-2b8f7f9b8a11';
const USER = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';

const note = (
  items: Array<[MailboxPokeChange['kind'], string]>,
  receivedAt = '2026-01-01T00:00:00.000Z',
): MailboxPoke => ({
  type: 'mailbox.poke',
  v: 1,
  accountId: ACCOUNT,
  source: 'webhook',
  changes: items.map(([kind, messageId]) => ({ kind, messageId })),
  receivedAt,
});

/** the reconciliation's poke: every folder */
const everyFolder = (): MailboxPoke => ({
  type: 'mailbox.poke',
  v: 1,
  accountId: ACCOUNT,
  source: 'reconcile',
  changes: [],
  everyFolder: true,
  receivedAt: '2026-01-01T00:00:00.000Z',
});

/**
 * The round's collaborators in memory: folders with cursors, the mirror's message→folder map, the provider's
 * current message→folder map, and a folder delta whose results are scripted per folder (in call order).
 */
function harness(opts: { account?: AccountForSync | null } = {}) {
  const log: string[] = [];
  const events: DomainEvent[] = [];
  const account: AccountForSync | null =
    opts.account === undefined
      ? { id: ACCOUNT, userId: USER, status: 'synced', syncCompletedAt: new Date() }
      : opts.account;
  const folderIds = new Set(['inbox', 'archive', 'drafts']);
  /** folders Graph has that the mirror learns at the next tree refresh */
  const graphFolders = new Set(folderIds);
  const mirror = new Map<string, string>();
  const graphNow = new Map<string, string | null>();
  const deltaResults = new Map<string, Array<Partial<FolderDeltaResult>>>();
  let reauth = false;
  /** the account is unlinked during the next folder read: its row and credentials are gone */
  let unlinkDuringRead = false;
  let unlinked = false;
  const state = (id: string): FolderSyncState => ({
    graphId: id,
    parentGraphId: null,
    displayName: id,
    wellKnownName: null,
    nextLink: null,
    deltaLink: `delta-${id}`,
    rebuilding: false,
  });
  const accounts = {
    findForSync: () => Promise.resolve(unlinked ? null : account),
    markReauthRequired: (_id: string, reason: string) => {
      log.push(`reauth:${reason}`);
      return Promise.resolve();
    },
  };
  const folders = { listForSync: () => Promise.resolve([...folderIds].sort().map(state)) };
  const messages = {
    foldersOf: (_a: string, ids: string[]) =>
      Promise.resolve(
        new Map(ids.filter((id) => mirror.has(id)).map((id) => [id, mirror.get(id) as string])),
      ),
  };
  let feedSeen: ChangeFeed | undefined;
  /** each folder run's `held` snapshot, as `folder:` and what it answers for the poked ids (or 'none') */
  const heldSeen: string[] = [];
  const delta = {
    refreshFolders: (_a: AccountForSync, _c: MailboxReader, feed: ChangeFeed) => {
      feedSeen = feed;
      log.push('refresh');
      for (const f of graphFolders) folderIds.add(f);
      return Promise.resolve({ upserted: 1, removed: 0 });
    },
    // like the real service: the removed messages are located (through the handler) before they are removed
    syncFolder: async (run: FolderDeltaRun) => {
      if (reauth) throw new ReauthRequiredError('invalid_grant');
      if (unlinkDuringRead) {
        unlinked = true;
        throw new CredentialsNotFoundError(ACCOUNT);
      }
      feedSeen = run.feed;
      log.push(`delta:${run.folder.graphId}`);
      heldSeen.push(
        `${run.folder.graphId}:${run.held ? JSON.stringify([...(run.held.take(['m1']) ?? [])]) : 'none'}`,
      );
      const next = deltaResults.get(run.folder.graphId)?.shift() ?? {};
      // only what the mirror still holds in this folder is looked up (a move its destination applied is not)
      const removed = (next.removedIds ?? []).filter((id) => mirror.get(id) === run.folder.graphId);
      const located = removed.length > 0 ? await run.locate?.(removed) : undefined;
      return { pages: 1, removedIds: [], reset: false, locations: located ?? new Map(), ...next };
    },
  };
  /** a test may hold the round inside the lock until it releases it */
  let hold: Promise<void> | undefined;
  const lock = {
    run: async (_a: string, _w: number, signal: AbortSignal, work: (s: AbortSignal) => Promise<unknown>) => {
      log.push('lock');
      if (hold) await hold;
      return work(signal).finally(() => log.push('unlock'));
    },
  };
  const publisher = {
    publish: (e: DomainEvent) => {
      events.push(e);
      return Promise.resolve();
    },
  };
  const lookups: string[] = [];
  const client: MailboxReader = {
    listFolderTree: () => Promise.reject(new Error('not used')),
    changes: () => Promise.reject(new Error('not used')),
    folderOf: (id) => {
      lookups.push(id);
      return Promise.resolve(graphNow.get(id) ?? null);
    },
  };
  const metricsRegistry = new MetricsRegistry({ defaultMetrics: false });
  const handler = new MailboxRound(
    accounts as unknown as MailAccountSyncRepository,
    folders as unknown as MailFoldersRepository,
    messages as unknown as MessagesRepository,
    delta as unknown as FolderDeltaService,
    lock as unknown as MailboxLock,
    new AccountFailures(
      accounts as unknown as MailAccountSyncRepository,
      publisher as unknown as DomainEventsPublisher,
    ),
    publisher as unknown as DomainEventsPublisher,
    scriptedRegistry(() => client),
    {
      pageSize: 50,
      folderParallelism: 1,
      pageWriters: 1,
      firstScreenSize: 0,
      progressEveryPages: 5,
      progressMinIntervalMs: 500,
    },
    { lockWaitMs: 1000, maxLookups: 3, changesRetentionHours: 72, pruneIntervalMs: 1000 },
    new ConsumerMetrics(metricsRegistry),
  );
  const run = (...pokes: MailboxPoke[]) => handler.run(ACCOUNT, pokes);
  const reconcile = (...pokes: MailboxPoke[]) => handler.run(ACCOUNT, [everyFolder(), ...pokes]);
  const holdLock = () => {
    let release = () => undefined as void;
    hold = new Promise<void>((resolve) => (release = resolve));
    return () => {
      hold = undefined;
      release();
    };
  };
  return {
    log,
    events,
    mirror,
    graphNow,
    graphFolders,
    deltaResults,
    lookups,
    heldSeen,
    run,
    reconcile,
    holdLock,
    feed: () => feedSeen,
    failAuth: () => (reauth = true),
    unlinkDuringRead: () => (unlinkDuringRead = true),
    deltas: () => log.filter((l) => l.startsWith('delta:')).map((l) => l.slice(6)),
    /** email_core_mirror_rounds_total's samples, `source` → value (provider outlook) */
    rounds: async () =>
      Object.fromEntries(
        parseExposition(await metricsRegistry.metrics())
          .filter((x) => x.name === 'email_core_mirror_rounds_total')
          .map((x) => {
            expect(x.labels.provider).toBe('outlook');
            return [x.labels.source, x.value];
          }),
      ),
  };
}

describe("MailboxRound (the mirror core's incremental round)", () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it('runs each affected folder once for the union of the notifications, under the mailbox lock', async () => {
    const h = harness();
    h.mirror.set('m1', 'inbox').set('m2', 'inbox');
    expect(
      await h.run(
        note([['updated', 'm1']], '2026-01-01T00:00:05.000Z'),
        note(
          [
            ['updated', 'm2'],
            ['updated', 'm1'],
          ],
          '2026-01-01T00:00:01.000Z',
        ),
      ),
    ).toBe('applied');
    expect(h.log).toEqual(['lock', 'delta:inbox', 'unlock']);
    expect(h.lookups).toEqual([]);
    // the round's announcements carry when the earliest of its notifications was accepted
    expect(h.feed()?.notifiedAt).toBe('2026-01-01T00:00:01.000Z');
  });

  it('a move runs the old folder and the new one', async () => {
    const h = harness();
    h.mirror.set('m1', 'inbox');
    h.graphNow.set('m1', 'archive');
    await h.run(note([['deleted', 'm1']]), note([['created', 'm1']]));
    expect(h.deltas().sort()).toEqual(['archive', 'inbox']);
  });

  it('a message in a folder the mirror does not know yet refreshes the folder tree first', async () => {
    const h = harness();
    h.graphFolders.add('projects');
    h.graphNow.set('n1', 'projects');
    await h.run(note([['created', 'n1']]));
    expect(h.log).toEqual(['lock', 'refresh', 'delta:projects', 'unlock']);
  });

  it('follows a removed message that only moved (its created notification is late or lost) to its new folder', async () => {
    const h = harness();
    h.mirror.set('m1', 'inbox');
    h.graphNow.set('m1', 'drafts');
    h.deltaResults.set('inbox', [{ removedIds: ['m1', 'gone'] }]);
    await h.run(note([['deleted', 'm1']]));
    expect(h.deltas()).toEqual(['inbox', 'drafts']);
    expect(h.lookups.sort()).toEqual(['gone', 'm1']);
  });

  it("gives the first pass's folders where the mirror held the poked messages when the round began, no later pass", async () => {
    const h = harness();
    h.mirror.set('m1', 'inbox');
    h.graphNow.set('m1', 'drafts');
    h.deltaResults.set('inbox', [{ removedIds: ['m1'] }]);
    await h.run(note([['deleted', 'm1']]));
    // the first pass's page answers from the round's read (m1 in the inbox); the second pass reads the rows
    expect(h.heldSeen).toEqual(['inbox:[["m1","inbox"]]', 'drafts:none']);
  });

  it("gives no snapshot after a tree refresh (it deletes a vanished folder's rows), nor to a reconciliation", async () => {
    const refreshed = harness();
    refreshed.graphFolders.add('projects');
    refreshed.graphNow.set('m1', 'projects');
    await refreshed.run(note([['created', 'm1']]));
    expect(refreshed.heldSeen).toEqual(['projects:none']);
    const reconciled = harness();
    reconciled.mirror.set('m1', 'inbox');
    await reconciled.reconcile(note([['updated', 'm1']]));
    expect(reconciled.heldSeen).toEqual(['archive:none', 'drafts:none', 'inbox:none']);
  });

  it('stops following after a bounded number of passes', async () => {
    const h = harness();
    h.mirror.set('m1', 'inbox');
    h.graphNow.set('m1', 'inbox'); // Graph keeps saying it is back where it was removed from
    h.deltaResults.set('inbox', [
      { removedIds: ['m1'] },
      { removedIds: ['m1'] },
      { removedIds: ['m1'] },
      { removedIds: ['m1'] },
    ]);
    await h.run(note([['updated', 'm1']]));
    expect(h.deltas()).toEqual(['inbox', 'inbox', 'inbox']);
  });

  it('a folder rebuilt from scratch (lost delta state) makes the round run every other folder', async () => {
    const h = harness();
    h.mirror.set('m1', 'inbox');
    h.deltaResults.set('inbox', [{ reset: true }]);
    await h.run(note([['updated', 'm1']]));
    expect(h.deltas()).toEqual(['inbox', 'archive', 'drafts']);
  });

  it('an item that names no message, or too many look-ups, runs every folder', async () => {
    const h = harness();
    const unnamed: MailboxPoke = { ...note([]), changes: [{ kind: 'updated' }] };
    await h.run(unnamed);
    expect(h.deltas()).toEqual(['archive', 'drafts', 'inbox']);

    const many = harness();
    await many.run(
      note([
        ['created', 'a'],
        ['created', 'b'],
        ['created', 'c'],
        ['created', 'd'],
      ]),
    );
    expect(many.deltas()).toEqual(['archive', 'drafts', 'inbox']);
    expect(many.lookups).toEqual([]);
  });

  it('a poked folder runs by itself; one the mirror does not know even after a tree refresh runs every folder', async () => {
    const h = harness();
    await h.run({ ...note([]), changes: [{ kind: 'updated', folderId: 'archive' }] });
    expect(h.deltas()).toEqual(['archive']);
    expect(h.lookups).toEqual([]);

    const lost = harness();
    await lost.run({ ...note([]), changes: [{ kind: 'updated', folderId: 'Inbox' }] });
    expect(lost.log).toContain('refresh');
    expect(lost.deltas()).toEqual(['archive', 'drafts', 'inbox']);
  });

  it('skips an account that is gone, waits for re-authorization, or has not finished its first sync', async () => {
    for (const account of [
      null,
      { id: ACCOUNT, userId: USER, status: 'reauth_required' as const, syncCompletedAt: new Date() },
      { id: ACCOUNT, userId: USER, status: 'syncing' as const, syncCompletedAt: null },
    ]) {
      const h = harness({ account });
      expect(await h.run(note([['created', 'x']]))).toBe('skipped');
      expect(h.log).toEqual([]);
    }
  });

  it('a revoked grant marks the account and ends the round without a retry', async () => {
    const h = harness();
    h.mirror.set('m1', 'inbox');
    h.failAuth();
    expect(await h.run(note([['updated', 'm1']]))).toBe('reauth_required');
    expect(h.log).toEqual(['lock', 'reauth:invalid_grant', 'unlock']);
    expect(h.events).toMatchObject([{ type: 'account.status', status: 'reauth_required', userId: USER }]);
  });

  it('drops a round whose account was unlinked meanwhile (its credentials went with it): no dead letter', async () => {
    const h = harness();
    h.mirror.set('m1', 'inbox');
    h.unlinkDuringRead();
    expect(await h.run(note([['updated', 'm1']]))).toBe('skipped');
    expect(h.log).toEqual(['lock', 'unlock']);
    expect(h.events).toEqual([]);
  });

  describe('a reconciliation (an every-folder poke)', () => {
    it('refreshes the folder tree, then runs every folder, new ones included, with no notification time', async () => {
      const h = harness();
      h.graphFolders.add('projects');
      expect(await h.reconcile()).toBe('applied');
      expect(h.log.slice(0, 2)).toEqual(['lock', 'refresh']);
      expect(h.deltas().sort()).toEqual(['archive', 'drafts', 'inbox', 'projects']);
      expect(h.lookups).toEqual([]);
      expect(h.feed()?.notifiedAt).toBeUndefined();
    });

    it('coalesced with notifications, still runs every folder once', async () => {
      const h = harness();
      h.mirror.set('m1', 'inbox');
      await h.reconcile(note([['updated', 'm1']]));
      expect(h.deltas().sort()).toEqual(['archive', 'drafts', 'inbox']);
    });

    it('runs each folder once: a move already showed in both folders, nothing is looked up', async () => {
      const h = harness();
      h.graphNow.set('m1', 'archive');
      h.deltaResults.set('inbox', [{ removedIds: ['m1'] }]);
      h.deltaResults.set('drafts', [{ reset: true }]);
      await h.reconcile();
      expect(h.deltas().sort()).toEqual(['archive', 'drafts', 'inbox']);
      expect(h.lookups).toEqual([]);
    });

    it('a removal its old folder reports first is looked up once, and no folder runs twice', async () => {
      const h = harness();
      h.mirror.set('m1', 'inbox');
      h.graphNow.set('m1', 'archive');
      h.deltaResults.set('inbox', [{ removedIds: ['m1'] }]);
      await h.reconcile();
      expect(h.deltas().sort()).toEqual(['archive', 'drafts', 'inbox']);
      expect(h.lookups).toEqual(['m1']);
    });

    it('skips an account that waits for re-authorization or has not finished its first sync', async () => {
      for (const account of [
        { id: ACCOUNT, userId: USER, status: 'reauth_required' as const, syncCompletedAt: new Date() },
        { id: ACCOUNT, userId: USER, status: 'syncing' as const, syncCompletedAt: null },
      ]) {
        const h = harness({ account });
        expect(await h.reconcile()).toBe('skipped');
        expect(h.log).toEqual([]);
      }
    });

    it('nothing to do without notifications nor a reconciliation', async () => {
      const h = harness();
      expect(await h.run()).toBe('applied');
      expect(h.log).toEqual([]);
    });
  });

  describe('rounds of one mailbox in this process coalesce', () => {
    const settle = () => new Promise((resolve) => setImmediate(resolve));

    it('a round asked for while another runs joins it: no second wait for the lock, one more pass', async () => {
      const h = harness();
      h.mirror.set('m1', 'inbox').set('m2', 'archive');
      const release = h.holdLock();
      const first = h.run(note([['updated', 'm1']]));
      await settle(); // the first round is in the lock
      const second = h.run(note([['updated', 'm2']]));
      const third = h.run(note([['deleted', 'm2']]));
      await settle();
      release();
      expect(await Promise.all([first, second, third])).toEqual(['applied', 'applied', 'applied']);
      // one lock, the running round's folders, then one pass for everything that joined
      expect(h.log.filter((l) => l === 'lock')).toHaveLength(1);
      expect(h.deltas()).toEqual(['inbox', 'archive']);
    });

    it("logs each round under its correlation id; the pass for joined rounds runs under the first joiner's, naming the others", async () => {
      const h = harness();
      h.mirror.set('m1', 'inbox').set('m2', 'archive');
      const lines: string[] = [];
      const spy = jest
        .spyOn(Logger.prototype, 'log')
        .mockImplementation((m: unknown) => void lines.push(`${currentCorrelationId()}: ${String(m)}`));
      const release = h.holdLock();
      const first = runWithCorrelation('A', () => h.run(note([['updated', 'm1']])));
      await settle();
      const second = runWithCorrelation('B', () => h.run(note([['updated', 'm2']])));
      const third = runWithCorrelation('C', () => h.run(note([['deleted', 'm2']])));
      await settle();
      release();
      await Promise.all([first, second, third]);
      spy.mockRestore();
      expect(lines).toEqual([
        expect.stringMatching(
          new RegExp(`^A: round for account ${ACCOUNT}: 1 poke\\(s\\), 1 change\\(s\\) \\(webhook\\) -> `),
        ),
        `B: account ${ACCOUNT}: one more pass for 2 joined round(s), also for correlation ids C`,
        expect.stringMatching(
          new RegExp(`^B: round for account ${ACCOUNT}: 2 poke\\(s\\), 2 change\\(s\\) \\(webhook\\) -> `),
        ),
      ]);
    });

    it('after the running round ended, the next round takes the lock itself', async () => {
      const h = harness();
      h.mirror.set('m1', 'inbox');
      expect(await h.run(note([['updated', 'm1']]))).toBe('applied');
      expect(await h.run(note([['updated', 'm1']]))).toBe('applied');
      expect(h.log.filter((l) => l === 'lock')).toHaveLength(2);
    });
  });

  describe('email_core_mirror_rounds_total', () => {
    it("counts each completed round by its pokes' source (mixed when several), joined ones too; none skipped", async () => {
      const h = harness();
      h.mirror.set('m1', 'inbox');
      await h.run(note([['updated', 'm1']]));
      await h.reconcile();
      await h.reconcile(note([['updated', 'm1']]));
      await h.run();
      expect(await h.rounds()).toEqual({ webhook: 1, reconcile: 1, mixed: 1 });
      // a revoked grant ends the round (no retry): it ran
      h.failAuth();
      expect(await h.run(note([['updated', 'm1']]))).toBe('reauth_required');
      expect(await h.rounds()).toEqual({ webhook: 2, reconcile: 1, mixed: 1 });
    });

    it('a round that joined a running one counts once it completed', async () => {
      const h = harness();
      h.mirror.set('m1', 'inbox').set('m2', 'archive');
      const release = h.holdLock();
      const first = h.run(note([['updated', 'm1']]));
      await new Promise((resolve) => setImmediate(resolve));
      const joined = h.run(note([['updated', 'm2']]));
      await new Promise((resolve) => setImmediate(resolve));
      expect(await h.rounds()).toEqual({});
      release();
      await Promise.all([first, joined]);
      expect(h.log.filter((l) => l === 'lock')).toHaveLength(1);
      expect(await h.rounds()).toEqual({ webhook: 2 });
    });

    it('counts nothing for a skipped account', async () => {
      const h = harness({ account: null });
      expect(await h.run(note([['updated', 'm1']]))).toBe('skipped');
      expect(await h.rounds()).toEqual({});
    });
  });
});
