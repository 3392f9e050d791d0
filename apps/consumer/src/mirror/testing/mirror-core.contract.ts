import { randomUUID } from 'node:crypto';
import { CommandBus } from '@nestjs/cqrs';
import type { Cluster } from 'ioredis';
import type { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  Topics,
  type DomainEvent,
  type MailboxPoke,
  type MailboxPokeChange,
  type MailChange,
  type MailChanged,
  type MailCommandRequest,
} from '@email-core/contracts';
import { CacheKeys, REDIS_CLUSTER } from '@email-core/cache';
import { MailCommandsRepository } from '@email-core/database';
import type { MailProvider, SealedCredentials } from '@email-core/providers';
import { mirroredState, waitFor, type MailboxState } from '@email-core/testing';
import { ExecuteMailCommandCommand } from '../../commands/execute-mail-command/execute-mail-command.command';
import { ApplyPokeCommand } from '../../pokes/apply-poke/apply-poke.command';
import { SyncMailboxCommand } from '../../sync/sync-mailbox/sync-mailbox.command';
import { startConsumerHarness, type ConsumerHarness } from './consumer-harness';

/**
 * The mirror core's scenarios, written once and run against every adapter of the provider port (the in-memory one,
 * and Outlook's on the emulator): initial sync, incremental changes, a lost cursor, moves between folders, and mail
 * actions. The consumer app is built as it boots (AppModule, the real Postgres, Kafka and Redis Cluster of the test
 * run, under a topic prefix of its own) with the adapter in its provider registry; the scenarios drive its use cases
 * in-process (a first sync, a poke round, a mail command) and assert on the mirror in Postgres and on its change
 * log, against the provider's own state.
 */

/** A mailbox at the provider, changed "elsewhere" (another client, new mail) by the scenarios. */
export interface RemoteMailbox {
  /** the folders every scenario's mailbox has: the well-known ones, Projects (in the Inbox) and Projects/2026 */
  readonly folders: { inbox: string; archive: string; projects: string; nested: string };
  addMessage(folderId: string, input?: { subject?: string; isRead?: boolean }): Promise<string>;
  update(
    id: string,
    patch: { isRead?: boolean; flagStatus?: 'notFlagged' | 'flagged'; subject?: string },
  ): Promise<void>;
  move(id: string, folderId: string): Promise<void>;
  remove(id: string): Promise<void>;
  addFolder(displayName: string, parentId: string): Promise<string>;
  /** every cursor of the mailbox stops working: the next read from one raises the port's CursorLostError */
  expireCursors(): Promise<void>;
  /** the provider's own state, projected as the mirror's (visible folders with counts; messages) */
  truth(): Promise<MailboxState>;
}

/**
 * A provider whose watch channels deliver in-process (the in-memory adapter): the scenario plays the transport (a
 * webhook, an IDLE listener) that turns each delivery into a `mailbox.poke` on the pokes topic.
 */
export interface InProcessWatch {
  /** the channels open for an account at the provider */
  channels(accountId: string): number;
  /** calls `listener` with every delivery of an open channel; answers a function that stops it */
  onDelivery(listener: (accountId: string, changes: MailboxPokeChange[]) => void): () => void;
}

/**
 * What a provider cannot do that a scenario relies on, each with the reason: the scenario adapts (or, where it
 * cannot, is skipped and reported as skipped), never passes by pretending.
 */
export interface ProviderLimits {
  /** messages cannot be edited elsewhere (IMAP: a message's content is immutable): the scenarios change flags only */
  immutableMessages?: string;
  /**
   * a move gives the message a new id (IMAP: an id is the folder's UIDVALIDITY and the message's UID there): the
   * moves scenario checks the IMAP way (old id removed, the message under its new id in its new folder)
   */
  movesChangeIds?: string;
  /** the cursors cannot be expired without changing every id of the folder: the lost-cursor scenario is skipped */
  noCursorExpiry?: string;
}

/** One adapter under test, and how a test makes mailboxes at its provider. */
export interface ProviderFixture {
  /** what the provider cannot do (none: every scenario as written) */
  readonly limits?: ProviderLimits;
  /** consumer settings the provider's runs need (e.g. its own watcher kept out of the scenarios) */
  readonly env?: Record<string, string>;
  /** only for a provider whose channels deliver in-process: adds the live-changes-through-the-watch scenario */
  readonly watch?: InProcessWatch;
  /** the `mail_accounts.provider` value of its accounts */
  readonly provider: string;
  /** starts what the provider needs (the emulator) and answers the adapter the consumer's registry gets */
  start(): Promise<MailProvider>;
  stop(): Promise<void>;
  /**
   * a new, empty mailbox with the folders of `RemoteMailbox.folders`; `externalUserId` is stored on the account, and
   * `sealed` (the adapter vault's sealed credentials, when it reads them from the account row) in its token columns
   */
  createMailbox(
    accountId: string,
    address: string,
  ): Promise<{ externalUserId: string; mailbox: RemoteMailbox; sealed?: SealedCredentials }>;
}

/** a mail command's request as a scenario writes it (the account is added) */
type ActionRequest = MailCommandRequest extends infer R
  ? R extends unknown
    ? Omit<R, 'accountId'>
    : never
  : never;

const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** A `RemoteMailbox.truth` helper: the projection both adapters' truths share. */
export function mailboxState(
  messages: MailboxState['messages'],
  folders: MailboxState['folders'],
): MailboxState {
  return { messages: [...messages].sort(byId), folders: [...folders].sort(byId) };
}

/** What the initial mailbox of every scenario holds (messages per folder; every third one read). */
const SEED = { inbox: 12, projects: 5, nested: 3, archive: 2 } as const;
const SEEDED = Object.values(SEED).reduce((a, b) => a + b, 0);

export function describeMirrorCore(name: string, fixture: ProviderFixture): void {
  describe(`the mirror core on the ${name} adapter (real Postgres, Kafka, Redis)`, () => {
    let harness: ConsumerHarness;
    let db: Client;
    let bus: CommandBus;
    let commands: MailCommandsRepository;
    let dataSource: DataSource;
    let userId: string;

    beforeAll(async () => {
      const adapter = await fixture.start();
      harness = await startConsumerHarness({
        name: `mirror-${fixture.provider}`,
        // small pages: a first sync and a rebuild page through every folder of more than 5 messages
        env: { ...fixture.env, SYNC_PAGE_SIZE: '5' },
        app: { mailProviders: [adapter] },
        observe: [Topics.events],
      });
      ({ db, userId } = harness);
      bus = harness.app.get(CommandBus);
      dataSource = harness.app.get(DataSource);
      commands = new MailCommandsRepository(dataSource);
    }, 120_000);

    afterAll(async () => {
      await harness?.close();
      await fixture.stop();
    });

    // ---- the provider side ----

    interface Linked {
      accountId: string;
      mailbox: RemoteMailbox;
      /** the seeded messages by folder, in the order they were added */
      seeded: Record<keyof typeof SEED, string[]>;
    }

    /** a new account at the provider with the seeded mailbox, linked (not yet synced) */
    const link = async (): Promise<Linked> => {
      const accountId = randomUUID();
      const address = `mirror-${accountId.slice(0, 8)}@contoso.example`;
      const { externalUserId, mailbox, sealed } = await fixture.createMailbox(accountId, address);
      await db.query(
        `INSERT INTO mail_accounts (id, user_id, provider, external_user_id, email, token_key_id, access_token_enc,
                                    access_token_expires_at, refresh_token_enc)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          accountId,
          userId,
          fixture.provider,
          externalUserId,
          address,
          sealed?.keyId ?? null,
          sealed?.accessTokenEnc ?? null,
          sealed?.accessTokenExpiresAt ?? null,
          sealed?.refreshTokenEnc ?? null,
        ],
      );
      const seeded = { inbox: [], projects: [], nested: [], archive: [] } as Linked['seeded'];
      let n = 0;
      for (const key of Object.keys(SEED) as Array<keyof typeof SEED>) {
        for (let i = 0; i < SEED[key]; i++) {
          n += 1;
          seeded[key].push(
            await mailbox.addMessage(mailbox.folders[key], { subject: `${key} ${i}`, isRead: n % 3 === 0 }),
          );
        }
      }
      return { accountId, mailbox, seeded };
    };

    // ---- the use cases, in-process, as the consumer's transports call them ----

    const sync = (accountId: string) =>
      bus.execute(
        new SyncMailboxCommand({
          type: 'sync.requested',
          v: 1,
          accountId,
          reason: 'linked',
          requestedAt: new Date().toISOString(),
        }),
      );

    const poke = (accountId: string, what: { changes?: MailboxPokeChange[]; everyFolder?: boolean }) => {
      const message: MailboxPoke = {
        type: 'mailbox.poke',
        v: 1,
        accountId,
        source: what.everyFolder ? 'reconcile' : 'idle',
        changes: what.changes ?? [],
        ...(what.everyFolder ? { everyFolder: true } : {}),
        receivedAt: new Date().toISOString(),
      };
      return bus.execute(new ApplyPokeCommand(message));
    };

    /** stores a command as the API does, then runs it as the mail-commands consumer does */
    const act = async (accountId: string, request: ActionRequest) => {
      const id = randomUUID();
      await dataSource.transaction((m) =>
        commands.create(m, {
          id,
          userId,
          accountId,
          action: request.action,
          request: { ...request, accountId },
          requestHash: `hash-${id}`,
          attachments: [],
        }),
      );
      const result = await bus.execute(new ExecuteMailCommandCommand(id, false));
      const row = (
        await db.query<{ status: string; reason_code: string | null }>(
          `SELECT status, reason_code FROM mail_commands WHERE id = $1`,
          [id],
        )
      ).rows[0];
      return { result, row };
    };

    // ---- the mirror ----

    const mirror = (accountId: string) => mirroredState(db, accountId);

    const expectMirrored = async (linked: Linked) => {
      expect(await mirror(linked.accountId)).toEqual(await linked.mailbox.truth());
    };

    const changeLog = async (accountId: string): Promise<MailChange[]> => {
      const rows = (
        await db.query<{
          seq: string;
          kind: MailChange['kind'];
          message_remote_id: string;
          folder_remote_id: string;
        }>(
          `SELECT seq, kind, message_remote_id, folder_remote_id FROM mail_changes WHERE account_id = $1 ORDER BY seq`,
          [accountId],
        )
      ).rows.map((r) => ({
        seq: Number(r.seq),
        kind: r.kind,
        messageId: r.message_remote_id,
        folderId: r.folder_remote_id,
      }));
      // gapless, numbered from 1, up to the account's change_seq
      expect(rows.map((c) => c.seq)).toEqual(rows.map((_c, i) => i + 1));
      const latest = (
        await db.query<{ change_seq: string }>(`SELECT change_seq FROM mail_accounts WHERE id = $1`, [
          accountId,
        ])
      ).rows[0];
      expect(Number(latest.change_seq)).toBe(rows.length);
      return rows;
    };

    /**
     * The `mail.changed` events (published after each commit) announce exactly the change log: each change once,
     * each event ending at its own seq, from the account's user.
     */
    const expectAnnounced = async (accountId: string, log: MailChange[]) => {
      const ofAccount = () =>
        (harness.seen(Topics.events) as DomainEvent[]).filter(
          (e): e is MailChanged => e.type === 'mail.changed' && e.accountId === accountId,
        );
      const announced = await waitFor(
        () =>
          Promise.resolve(
            ofAccount().flatMap((e) => e.changes).length >= log.length ? ofAccount() : undefined,
          ),
        { timeoutMs: 15_000, intervalMs: 50, what: `mail.changed of ${accountId} up to seq ${log.length}` },
      );
      for (const e of announced) expect([e.userId, e.seq]).toEqual([userId, e.changes.at(-1)?.seq]);
      expect([...announced].sort((a, b) => a.seq - b.seq).flatMap((e) => e.changes)).toEqual(log);
    };

    /** the last logged change of each message */
    const lastChange = (log: MailChange[]) => new Map(log.map((c) => [c.messageId, c]));

    const folderCursors = async (accountId: string) =>
      (
        await db.query<{ remote_id: string; cursor: string | null; next_cursor: string | null }>(
          `SELECT remote_id, cursor, next_cursor FROM mail_folders WHERE account_id = $1 ORDER BY remote_id`,
          [accountId],
        )
      ).rows;

    /** counts the given ids in the mirror every few ms until stopped; answers the fewest seen */
    const sampleMirror = (accountId: string, ids: string[]) => {
      let fewest = Number.POSITIVE_INFINITY;
      let sampling = true;
      const done = (async () => {
        while (sampling) {
          const { rows } = await db.query<{ n: string }>(
            `SELECT count(*) AS n FROM messages WHERE account_id = $1 AND remote_id = ANY($2)`,
            [accountId, ids],
          );
          fewest = Math.min(fewest, Number(rows[0].n));
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      return async () => {
        sampling = false;
        await done;
        return fewest;
      };
    };

    /** a new mailbox, synced: what every scenario but the first starts from */
    const synced = async (): Promise<Linked> => {
      const linked = await link();
      expect(await sync(linked.accountId)).toBe('completed');
      return linked;
    };

    // ---- the scenarios ----

    const limits = fixture.limits ?? {};

    it('initial sync: every folder and message mirrored, counts right, cursors stored, nothing logged', async () => {
      const linked = await link();
      const truth = await linked.mailbox.truth();
      expect(truth.messages).toHaveLength(SEEDED);

      expect(await sync(linked.accountId)).toBe('completed');

      const mirrored = await mirror(linked.accountId);
      expect(mirrored).toEqual(truth);
      const inbox = mirrored.folders.find((f) => f.id === linked.mailbox.folders.inbox);
      expect(inbox).toEqual({ id: linked.mailbox.folders.inbox, total: SEED.inbox, unread: SEED.inbox - 4 });
      expect(mirrored.folders.find((f) => f.id === linked.mailbox.folders.nested)?.total).toBe(SEED.nested);
      // nested folders keep their parents
      const parents = (
        await db.query<{ remote_id: string; parent_remote_id: string | null }>(
          `SELECT remote_id, parent_remote_id FROM mail_folders WHERE account_id = $1`,
          [linked.accountId],
        )
      ).rows;
      const parentOf = new Map(parents.map((p) => [p.remote_id, p.parent_remote_id]));
      expect(parentOf.get(linked.mailbox.folders.nested)).toBe(linked.mailbox.folders.projects);
      expect(parentOf.get(linked.mailbox.folders.projects)).toBe(linked.mailbox.folders.inbox);
      // every folder caught up: a cursor stored, no page in progress
      const cursors = await folderCursors(linked.accountId);
      expect(cursors).toHaveLength(truth.folders.length);
      for (const f of cursors)
        expect({ id: f.remote_id, cursor: typeof f.cursor, next: f.next_cursor }).toEqual({
          id: f.remote_id,
          cursor: 'string',
          next: null,
        });
      // every body stored with its message
      const bodies = (
        await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM message_bodies b JOIN messages m USING (account_id, remote_id)
            WHERE b.account_id = $1 AND length(b.content) > 0`,
          [linked.accountId],
        )
      ).rows[0];
      expect(Number(bodies.n)).toBe(SEEDED);
      const account = (
        await db.query<{ status: string; sync_completed_at: Date | null }>(
          `SELECT status, sync_completed_at FROM mail_accounts WHERE id = $1`,
          [linked.accountId],
        )
      ).rows[0];
      expect(account.status).toBe('synced');
      expect(account.sync_completed_at).not.toBeNull();
      // a first sync is not live news: nothing in the change log, and nothing announced before its completion
      expect(await changeLog(linked.accountId)).toEqual([]);
      const events = () =>
        (harness.seen(Topics.events) as DomainEvent[]).filter((e) => e.accountId === linked.accountId);
      const completed = await waitFor(
        () => Promise.resolve(events().find((e) => e.type === 'sync.completed')),
        { timeoutMs: 15_000, intervalMs: 50, what: `sync.completed of ${linked.accountId}` },
      );
      expect(completed).toMatchObject({ userId, folders: truth.folders.length, messages: SEEDED });
      expect(events().filter((e) => e.type === 'mail.changed')).toEqual([]);
    }, 120_000);

    it('incremental changes: creates, updates and deletes after the first sync converge and are logged once', async () => {
      const linked = await synced();
      const { mailbox, seeded } = linked;
      const created = [
        await mailbox.addMessage(mailbox.folders.inbox, { subject: 'new in the inbox' }),
        await mailbox.addMessage(mailbox.folders.inbox, { subject: 'another one' }),
        await mailbox.addMessage(mailbox.folders.nested, { subject: 'new in 2026' }),
      ];
      const read = seeded.inbox[1];
      const flagged = seeded.projects[0];
      await mailbox.update(read, { isRead: true });
      await mailbox.update(flagged, {
        flagStatus: 'flagged',
        ...(limits.immutableMessages ? {} : { subject: 'flagged and renamed' }),
      });
      const deleted = [seeded.inbox[4], seeded.projects[2]];
      for (const id of deleted) await mailbox.remove(id);
      const changes: MailboxPokeChange[] = [
        ...created.map((messageId) => ({ kind: 'created' as const, messageId })),
        { kind: 'updated', messageId: read },
        { kind: 'updated', messageId: flagged },
        ...deleted.map((messageId) => ({ kind: 'deleted' as const, messageId })),
      ];

      await poke(linked.accountId, { changes });

      await expectMirrored(linked);
      const log = await changeLog(linked.accountId);
      const last = lastChange(log);
      // new mail is logged as created, a change to a message the mirror held as upserted
      for (const id of created) expect(last.get(id)?.kind).toBe('created');
      for (const id of [read, flagged]) expect(last.get(id)?.kind).toBe('upserted');
      for (const id of deleted) expect(last.get(id)?.kind).toBe('removed');
      expect(last.get(created[2])?.folderId).toBe(mailbox.folders.nested);
      // only what changed is logged, each change once
      expect(new Set(log.map((c) => c.messageId))).toEqual(new Set([...created, read, flagged, ...deleted]));
      expect(log).toHaveLength(7);

      // the same poke again (a duplicate delivery) finds nothing new
      await poke(linked.accountId, { changes });
      expect(await changeLog(linked.accountId)).toEqual(log);
      await expectMirrored(linked);
      await expectAnnounced(linked.accountId, log);
    }, 120_000);

    it('a reconciliation of an unchanged mailbox writes nothing: no folder row, change or cache version moves', async () => {
      const linked = await synced();
      const redis = harness.app.get<Cluster>(REDIS_CLUSTER);
      const folderRows = async () =>
        (
          await db.query<Record<string, unknown>>(
            `SELECT remote_id, parent_remote_id, display_name, cursor, next_cursor, synced_at, updated_at,
                    total_count, unread_count
               FROM mail_folders WHERE account_id = $1 ORDER BY remote_id`,
            [linked.accountId],
          )
        ).rows;
      const before = {
        rows: await folderRows(),
        version: await redis.get(CacheKeys.accountVersion(linked.accountId)),
      };

      await poke(linked.accountId, { everyFolder: true });

      expect(await folderRows()).toEqual(before.rows);
      expect(await redis.get(CacheKeys.accountVersion(linked.accountId))).toBe(before.version);
      expect(await changeLog(linked.accountId)).toEqual([]);
      // and one that changed: the change is mirrored, logged and announced
      const read = linked.seeded.archive[1]; // seeded unread
      await linked.mailbox.update(read, { isRead: true });
      await poke(linked.accountId, { everyFolder: true });
      await expectMirrored(linked);
      const log = await changeLog(linked.accountId);
      expect(log).toEqual([expect.objectContaining({ kind: 'upserted', messageId: read })]);
      expect(await redis.get(CacheKeys.accountVersion(linked.accountId))).not.toBe(before.version);
      await expectAnnounced(linked.accountId, log);
    }, 120_000);

    // skipped (and reported as skipped) where the provider cannot lose a cursor without changing every id
    (limits.noCursorExpiry ? it.skip : it)(
      'a lost cursor: the folders are read again from scratch, rows gone meanwhile swept, the others kept',
      async () => {
        const linked = await synced();
        const { mailbox, seeded } = linked;
        const keptIds = (await mirror(linked.accountId)).messages.map((m) => m.id);
        // gone while the cursors were lost: only reading the folder again from scratch can tell
        const vanished = seeded.nested[0];
        await mailbox.remove(vanished);
        await mailbox.expireCursors();
        const added = await mailbox.addMessage(mailbox.folders.nested, {
          subject: 'after the cursors expired',
        });
        const kept = keptIds.filter((id) => id !== vanished);
        const stop = sampleMirror(linked.accountId, kept);

        await poke(linked.accountId, { changes: [{ kind: 'created', messageId: added }] });

        const fewest = await stop();
        await expectMirrored(linked);
        const log = await changeLog(linked.accountId);
        // the new message logged, the vanished one swept (logged removed); nothing else changed
        expect(log).toHaveLength(2);
        expect(log).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ kind: 'created', messageId: added, folderId: mailbox.folders.nested }),
            expect.objectContaining({
              kind: 'removed',
              messageId: vanished,
              folderId: mailbox.folders.nested,
            }),
          ]),
        );
        // every other message stayed in the mirror throughout (a rebuild sweeps only at its last page)
        expect(fewest).toBe(kept.length);
        await expectAnnounced(linked.accountId, log);
        const mirrored = new Set((await mirror(linked.accountId)).messages.map((m) => m.id));
        expect(kept.every((id) => mirrored.has(id))).toBe(true);
        for (const f of await folderCursors(linked.accountId)) {
          expect({ id: f.remote_id, cursor: typeof f.cursor, next: f.next_cursor }).toEqual({
            id: f.remote_id,
            cursor: 'string',
            next: null,
          });
        }
      },
      120_000,
    );

    (limits.movesChangeIds ? it.skip : it)(
      'moves between folders: a moved message keeps its id and is never missing from the mirror',
      async () => {
        const linked = await synced();
        const { mailbox, seeded } = linked;
        const later = await mailbox.addFolder('Later', mailbox.folders.inbox);
        const moves: Array<[id: string, from: string, to: string]> = [
          [seeded.inbox[0], mailbox.folders.inbox, mailbox.folders.archive],
          [seeded.nested[1], mailbox.folders.nested, mailbox.folders.projects],
          [seeded.inbox[2], mailbox.folders.inbox, later], // into a folder created after the sync
          [seeded.archive[0], mailbox.folders.archive, mailbox.folders.nested],
        ];
        for (const [id, , to] of moves) await mailbox.move(id, to);
        // a move whose "created" never arrives: the round follows the removal to the message's new folder
        const silent = seeded.inbox[3];
        await mailbox.move(silent, mailbox.folders.projects);
        const changes: MailboxPokeChange[] = [
          ...moves.flatMap(([messageId, from, to]): MailboxPokeChange[] => [
            { kind: 'deleted', messageId, folderId: from },
            { kind: 'created', messageId, folderId: to },
          ]),
          { kind: 'deleted', messageId: silent, folderId: mailbox.folders.inbox },
        ];
        const movedIds = [...moves.map(([id]) => id), silent];
        const stop = sampleMirror(linked.accountId, movedIds);

        await poke(linked.accountId, { changes });

        const fewest = await stop();
        expect(fewest).toBe(movedIds.length);
        await expectMirrored(linked);
        const mirrored = new Map((await mirror(linked.accountId)).messages.map((m) => [m.id, m.folderId]));
        for (const [id, , to] of moves) expect(mirrored.get(id)).toBe(to);
        expect(mirrored.get(silent)).toBe(mailbox.folders.projects);
        const log = await changeLog(linked.accountId);
        // a move is logged as the message upserted into its new folder, never as removed
        expect(log.filter((c) => c.kind === 'removed')).toEqual([]);
        const last = lastChange(log);
        for (const [id, , to] of moves)
          expect(last.get(id)).toMatchObject({ kind: 'upserted', folderId: to });
        expect(last.get(silent)).toMatchObject({ kind: 'upserted', folderId: mailbox.folders.projects });
        await expectAnnounced(linked.accountId, log);
      },
      120_000,
    );

    // where a move changes the id (IMAP), the moves scenario the IMAP way
    if (limits.movesChangeIds) {
      it('moves between folders where a move changes the id: the old id removed, the message mirrored under its new id in its new folder', async () => {
        const linked = await synced();
        const { mailbox, seeded, accountId } = linked;
        const later = await mailbox.addFolder('Later', mailbox.folders.inbox);
        const moves: Array<[id: string, subject: string, from: string, to: string]> = [
          [seeded.inbox[0], 'inbox 0', mailbox.folders.inbox, mailbox.folders.archive],
          [seeded.nested[1], 'nested 1', mailbox.folders.nested, mailbox.folders.projects],
          [seeded.inbox[2], 'inbox 2', mailbox.folders.inbox, later], // into a folder created after the sync
          [seeded.archive[0], 'archive 0', mailbox.folders.archive, mailbox.folders.nested],
        ];
        for (const [id, , , to] of moves) await mailbox.move(id, to);
        // what a watcher of this provider can tell: the old id left its folder, something arrived in the other
        const changes: MailboxPokeChange[] = moves.flatMap(([messageId, , from, to]): MailboxPokeChange[] => [
          { kind: 'deleted', messageId, folderId: from },
          { kind: 'created', folderId: to },
        ]);

        await poke(accountId, { changes });

        await expectMirrored(linked);
        const mirrored = await mirror(accountId);
        const log = await changeLog(accountId);
        const last = lastChange(log);
        for (const [oldId, subject, , to] of moves) {
          expect(mirrored.messages.some((m) => m.id === oldId)).toBe(false);
          const now = mirrored.messages.filter((m) => m.subject === subject);
          expect(now.map((m) => m.folderId)).toEqual([to]);
          expect(last.get(oldId)?.kind).toBe('removed');
          // under its new id the moved message is new to the mirror, but not new mail: its Message-ID was the
          // account's a moment ago (docs/realtime.md), so it is 'upserted', never 'created'
          expect(last.get(now[0].id)).toMatchObject({ kind: 'upserted', folderId: to });
          expect(log.filter((c) => c.kind === 'created')).toEqual([]);
        }
        expect(log).toHaveLength(2 * moves.length);
        await expectAnnounced(accountId, log);
      }, 120_000);
    }

    const { watch } = fixture;
    if (watch) {
      it('live changes through the watch: the channel the watcher opens after the first sync keeps the mirror converged', async () => {
        const linked = await synced();
        const { mailbox, seeded, accountId } = linked;
        // the watcher (the subscriptions feature) opens a channel through the port once the mailbox is synced
        await waitFor(() => Promise.resolve(watch.channels(accountId) > 0 || undefined), {
          timeoutMs: 15_000,
          intervalMs: 50,
          what: `a watch channel of ${accountId}`,
        });
        const published: Array<Promise<unknown>> = [];
        const stop = watch.onDelivery((account, changes) => {
          if (account !== accountId) return;
          const message: MailboxPoke = {
            type: 'mailbox.poke',
            v: 1,
            accountId,
            source: 'idle',
            changes,
            receivedAt: new Date().toISOString(),
          };
          published.push(harness.publisher.publish(harness.topic(Topics.mailboxPokes), accountId, message));
        });
        try {
          const added = await mailbox.addMessage(mailbox.folders.projects, { subject: 'delivered live' });
          await mailbox.update(seeded.inbox[0], { isRead: true });
          await mailbox.move(seeded.inbox[1], mailbox.folders.archive);
          await mailbox.remove(seeded.nested[0]);
          expect(published).toHaveLength(4); // one delivery per change
          await Promise.all(published);
          const truth = await mailbox.truth();
          await waitFor(
            async () => JSON.stringify(await mirror(accountId)) === JSON.stringify(truth) || undefined,
            {
              timeoutMs: 30_000,
              intervalMs: 100,
              what: `the mirror of ${accountId} to follow the deliveries`,
            },
          ).catch(() => undefined);
          expect(await mirror(accountId)).toEqual(truth);
          const log = await changeLog(accountId);
          const last = lastChange(log);
          expect(last.get(added)).toMatchObject({ kind: 'created', folderId: mailbox.folders.projects });
          expect(last.get(seeded.inbox[0])?.kind).toBe('upserted');
          // a move is the source folder's removal and the destination's listing, in either order: the row is updated
          // in place, or written again after its removal; either way 'upserted', never 'created' (not new mail)
          expect(last.get(seeded.inbox[1])).toMatchObject({
            kind: 'upserted',
            folderId: mailbox.folders.archive,
          });
          expect(log.filter((c) => c.kind === 'created').map((c) => c.messageId)).toEqual([added]);
          expect(last.get(seeded.nested[0])?.kind).toBe('removed');
          await expectAnnounced(accountId, log);
        } finally {
          stop();
        }
      }, 120_000);
    }

    it('actions: read, flag, move and delete through the port; the provider changes and the mirror converges', async () => {
      const linked = await synced();
      const { mailbox, seeded, accountId } = linked;
      const unread = seeded.inbox.filter((_id, i) => (i + 1) % 3 !== 0).slice(0, 2);

      const read = await act(accountId, { action: 'markRead', messageIds: unread, isRead: true });
      expect(read.result).toBe('done');
      await expectMirrored(linked);
      const afterRead = await mailbox.truth();
      for (const id of unread) expect(afterRead.messages.find((m) => m.id === id)?.isRead).toBe(true);

      const flagged = seeded.projects[1];
      expect(
        (await act(accountId, { action: 'flag', messageIds: [flagged], flagStatus: 'flagged' })).result,
      ).toBe('done');
      await expectMirrored(linked);

      const moved = [seeded.inbox[5], seeded.nested[2]];
      const archivedBefore = (await mailbox.truth()).messages.filter(
        (m) => m.folderId === mailbox.folders.archive,
      ).length;
      const stop = sampleMirror(accountId, moved);
      expect(
        (
          await act(accountId, {
            action: 'move',
            messageIds: moved,
            destinationFolderId: mailbox.folders.archive,
          })
        ).result,
      ).toBe('done');
      // where a move changes the id, the old ids leave the mirror (the new ones are checked below)
      const fewestMoved = await stop();
      if (!limits.movesChangeIds) expect(fewestMoved).toBe(moved.length);
      await expectMirrored(linked);

      const deleted = seeded.archive[1];
      expect((await act(accountId, { action: 'delete', messageIds: [deleted] })).result).toBe('done');
      await expectMirrored(linked);

      const truth = await mailbox.truth();
      expect(truth.messages.find((m) => m.id === flagged)?.flagStatus).toBe('flagged');
      if (limits.movesChangeIds) {
        // moved under new ids: the old ones are gone, the archive holds two more (one was deleted since)
        for (const id of moved) expect(truth.messages.some((m) => m.id === id)).toBe(false);
        for (const subject of ['inbox 5', 'nested 2'])
          expect(truth.messages.find((m) => m.subject === subject)?.folderId).toBe(mailbox.folders.archive);
        expect(truth.messages.filter((m) => m.folderId === mailbox.folders.archive)).toHaveLength(
          archivedBefore + moved.length - 1,
        );
      } else {
        for (const id of moved)
          expect(truth.messages.find((m) => m.id === id)?.folderId).toBe(mailbox.folders.archive);
      }
      expect(truth.messages.some((m) => m.id === deleted)).toBe(false);

      const last = lastChange(await changeLog(accountId));
      for (const id of [...unread, flagged]) expect(last.get(id)?.kind).toBe('upserted');
      for (const id of moved)
        expect(last.get(id)).toMatchObject(
          limits.movesChangeIds
            ? { kind: 'removed' }
            : { kind: 'upserted', folderId: mailbox.folders.archive },
        );
      expect(last.get(deleted)?.kind).toBe('removed');

      // a message gone at the provider meanwhile: the action fails for it, and the mirror follows
      const gone = seeded.inbox[6];
      await mailbox.remove(gone);
      const late = await act(accountId, { action: 'markRead', messageIds: [gone], isRead: true });
      expect(late.row.status).toBe('failed');
      await expectMirrored(linked);
      const log = await changeLog(accountId);
      expect(lastChange(log).get(gone)?.kind).toBe('removed');
      await expectAnnounced(accountId, log);
    }, 120_000);
  });
}
