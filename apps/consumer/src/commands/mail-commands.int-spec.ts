import { randomBytes, randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  failedMessageSchema,
  Topics,
  topicName,
  type CommandStatus,
  type DomainEvent,
  type MailChanged,
  type MailCommandAction,
  type MailboxPoke,
  type MailCommandQueued,
} from '@email-core/contracts';
import { MailCommandsRepository } from '@email-core/database';
import type { KafkaPublisher } from '@email-core/kafka';
import { OutlookProvider } from '@email-core/providers';
import {
  currentTestRun,
  startEmulator,
  exportedState,
  mirroredState,
  waitFor,
  type RunningEmulator,
} from '@email-core/testing';
import { startConsumerHarness, type ConsumerHarness } from '../mirror/testing/consumer-harness';
import { withoutWatch } from '../mirror/testing/test-providers';

/**
 * The mail-command worker on the real Postgres, Kafka and Redis Cluster against the real emulator: the consumer
 * app runs in-process under a topic prefix of its own and syncs two mailboxes; commands are stored with
 * MailCommandsRepository (as the API stores them) and announced on the mail-commands topic. Each action must
 * show in the emulator's export and in Postgres, with its `command.status` events; a duplicate message must not
 * reach Graph again; a move of a message deleted in Outlook must end MESSAGE_GONE with the mirror following.
 */

interface ExportFolder {
  id: string;
  isHidden?: boolean;
  wellKnownName: string | null;
  path: string;
  totalItemCount: number;
  unreadItemCount: number;
}
interface ExportMessage {
  id: string;
  immutableId: string;
  parentFolderId: string;
  changeKey: string;
  subject: string;
  isRead: boolean;
  hasAttachments: boolean;
  flag: { flagStatus: string };
}
interface Export {
  userId: string;
  folders: ExportFolder[];
  messages: ExportMessage[];
}
interface Stats {
  mailboxes: Record<string, { requests: number } | undefined>;
}

const run = currentTestRun();
const prefix = `${run.topicPrefix}commands-it.`;
const topic = (t: (typeof Topics)[keyof typeof Topics]) => topicName(prefix, t);

describe('mail commands (real Postgres, Kafka, Redis; the emulator as Graph)', () => {
  let emulator: RunningEmulator;
  let harness: ConsumerHarness;
  let publisher: KafkaPublisher;
  let db: Client;
  let commands: MailCommandsRepository;
  let dataSource: DataSource;
  let userId = '';
  const events = () => harness.seen(Topics.events) as DomainEvent[];
  const failed = () =>
    [...harness.seen(Topics.retry), ...harness.seen(Topics.deadLetter)].map((v) => ({
      envelope: failedMessageSchema.parse(v),
    }));
  const tokens = new Map<string, string>();
  const mailboxes = new Map<string, { address: string; graphUserId: string }>();

  const tokenFor = async (address: string, forceRefresh = false) => {
    let token = tokens.get(address);
    if (!token || forceRefresh) {
      token = (await emulator.admin<{ access_token: string }>('POST', '/_emulator/tokens', { address }))
        .access_token;
      tokens.set(address, token);
    }
    return token;
  };
  /** the Outlook adapter on the emulator, each account's token from the emulator's admin API */
  const outlook = () =>
    OutlookProvider.create({
      graphBaseUrl: emulator.origin,
      accessToken: (accountId, opts) => {
        const mailbox = mailboxes.get(accountId);
        if (!mailbox) throw new Error(`no mailbox for ${accountId}`);
        return tokenFor(mailbox.address, opts?.forceRefresh);
      },
    });

  const exportOf = (address: string) =>
    emulator.admin<Export>('GET', `/_emulator/mailboxes/${address}/export?bodies=false`);
  const requestsOf = async (address: string) =>
    (await emulator.admin<Stats>('GET', '/_emulator/stats')).mailboxes[address]?.requests ?? 0;

  const link = async (address: string, messages: number, seed: number): Promise<string> => {
    const created = await emulator.admin<{ userId: string }>('POST', '/_emulator/mailboxes', {
      address,
      displayName: address.split('@')[0],
      seed: { messages, folders: 3, seed },
    });
    const id = randomUUID();
    await db.query(
      `INSERT INTO mail_accounts (id, user_id, external_user_id, email) VALUES ($1, $2, $3, $4)`,
      [id, userId, created.userId, address],
    );
    mailboxes.set(id, { address, graphUserId: created.userId });
    return id;
  };

  const syncAndWait = async (accountId: string) => {
    await publisher.publish(topic(Topics.syncRequests), accountId, {
      type: 'sync.requested',
      v: 1,
      accountId,
      reason: 'linked',
      requestedAt: new Date().toISOString(),
    });
    return waitFor(
      () => Promise.resolve(events().find((e) => e.type === 'sync.completed' && e.accountId === accountId)),
      { timeoutMs: 60000, intervalMs: 100, what: `sync.completed of ${accountId}` },
    );
  };

  /** The mirror and the export, projected onto what both hold (libs/testing). */
  const mirrorOf = (accountId: string) => mirroredState(db, accountId);
  const truthOf = (accountId: string) =>
    exportedState(emulator.admin, mailboxes.get(accountId)?.address ?? '');
  /** The mirror equals the export right away: the command ended only after its mirror round. */
  const expectMirrored = async (accountId: string) => {
    expect(await mirrorOf(accountId)).toEqual(await truthOf(accountId));
  };

  /** Stores a command as the API does (request without attachment content) and announces it. */
  const submit = async (
    accountId: string,
    request: Record<string, unknown> & { action: MailCommandAction },
    attachments: Array<{ name: string; contentType: string; content: Buffer }> = [],
  ): Promise<string> => {
    const id = randomUUID();
    const stored = {
      ...request,
      accountId,
      ...(attachments.length > 0
        ? {
            attachments: attachments.map((a) => ({
              name: a.name,
              contentType: a.contentType,
              size: a.content.length,
            })),
          }
        : {}),
    };
    await dataSource.transaction((m) =>
      commands.create(m, {
        id,
        userId,
        accountId,
        action: request.action,
        request: stored,
        requestHash: `hash-${id}`,
        attachments,
      }),
    );
    await announce(id, accountId, request.action);
    return id;
  };
  const announce = (commandId: string, accountId: string, action: MailCommandAction) =>
    publisher.publish<MailCommandQueued>(topic(Topics.mailCommands), accountId, {
      type: 'mail.command',
      v: 1,
      commandId,
      accountId,
      action,
      queuedAt: new Date().toISOString(),
    });

  const statuses = (commandId: string) =>
    events().filter((e): e is CommandStatus => e.type === 'command.status' && e.commandId === commandId);
  const finished = (commandId: string) =>
    waitFor(
      () => Promise.resolve(statuses(commandId).find((e) => e.status === 'done' || e.status === 'failed')),
      { timeoutMs: 60000, intervalMs: 100, what: `the outcome of command ${commandId}` },
    );
  const commandRow = async (id: string) =>
    (
      await db.query<{ status: string; reason_code: string | null; reason: string | null }>(
        `SELECT status, reason_code, reason FROM mail_commands WHERE id = $1`,
        [id],
      )
    ).rows[0];

  beforeAll(async () => {
    emulator = await startEmulator({ EMULATOR_THROTTLING: 'true' });
    harness = await startConsumerHarness({
      name: 'commands-it',
      env: { SYNC_PAGE_SIZE: '50' },
      app: {
        mailProviders: [withoutWatch(outlook())],
        // a round that had to wait for another round of its mailbox would go to the retry topic at once: rounds
        // of one mailbox must coalesce instead (the action-and-notification test below)
        rounds: { lockWaitMs: 1 },
      },
      observe: [Topics.events, Topics.retry, Topics.deadLetter],
    });
    ({ publisher, db, userId } = harness);
    dataSource = harness.app.get(DataSource);
    commands = new MailCommandsRepository(dataSource);
  }, 120000);

  afterAll(async () => {
    await harness?.close();
    await emulator?.stop();
  });

  let alice = '';
  let bob = '';
  const aliceAddress = 'cmd-alice@contoso.example';
  const bobAddress = 'cmd-bob@contoso.example';
  let before: Export;
  const inboxOf = (exp: Export) => exp.folders.find((f) => f.wellKnownName === 'inbox')?.id as string;
  const folderNamed = (exp: Export, name: string) =>
    exp.folders.find((f) => f.wellKnownName === name)?.id as string;

  it('syncs the mailboxes', async () => {
    alice = await link(aliceAddress, 80, 21);
    bob = await link(bobAddress, 10, 22);
    await Promise.all([syncAndWait(alice), syncAndWait(bob)]);
    before = await exportOf(aliceAddress);
    await expectMirrored(alice);
    await expectMirrored(bob);
  }, 120000);

  it('marks read, flags, moves and deletes in Outlook; the mirror follows and every status is announced', async () => {
    const inbox = inboxOf(before);
    const archive = folderNamed(before, 'archive');
    const inInbox = before.messages.filter((m) => m.parentFolderId === inbox);
    const unread = inInbox.filter((m) => !m.isRead).slice(0, 3);
    const unflagged = inInbox
      .filter((m) => m.flag.flagStatus === 'notFlagged' && !unread.includes(m))
      .slice(0, 2);
    const used = new Set([...unread, ...unflagged].map((m) => m.id));
    const toMove = inInbox.filter((m) => !used.has(m.id)).slice(0, 2);
    toMove.forEach((m) => used.add(m.id));
    const toDelete = inInbox.filter((m) => !used.has(m.id)).slice(0, 2);
    expect([unread.length, unflagged.length, toMove.length, toDelete.length]).toEqual([3, 2, 2, 2]);

    const ids = {
      read: await submit(alice, {
        action: 'markRead',
        messageIds: unread.map((m) => m.immutableId),
        isRead: true,
      }),
      flag: await submit(alice, {
        action: 'flag',
        messageIds: unflagged.map((m) => m.immutableId),
        flagStatus: 'flagged',
      }),
      move: await submit(alice, {
        action: 'move',
        messageIds: toMove.map((m) => m.immutableId),
        destinationFolderId: archive,
      }),
      delete: await submit(alice, { action: 'delete', messageIds: toDelete.map((m) => m.immutableId) }),
    };
    for (const id of Object.values(ids)) {
      await finished(id);
      expect(statuses(id).map((e) => e.status)).toEqual(['sent', 'done']);
      expect(statuses(id).every((e) => e.userId === userId && e.accountId === alice)).toBe(true);
      expect(await commandRow(id)).toEqual({ status: 'done', reason_code: null, reason: null });
    }

    const after = await exportOf(aliceAddress);
    const now = new Map(after.messages.map((m) => [m.immutableId, m]));
    for (const m of unread) expect(now.get(m.immutableId)?.isRead).toBe(true);
    for (const m of unflagged) expect(now.get(m.immutableId)?.flag.flagStatus).toBe('flagged');
    for (const m of toMove) expect(now.get(m.immutableId)?.parentFolderId).toBe(archive);
    for (const m of toDelete) expect(now.has(m.immutableId)).toBe(false);
    await expectMirrored(alice);

    // the mirror's changes were logged and announced like live ones
    const announced = events()
      .filter((e): e is MailChanged => e.type === 'mail.changed' && e.accountId === alice)
      .flatMap((e) => e.changes);
    for (const m of [...unread, ...unflagged, ...toMove]) {
      expect(announced.some((c) => c.messageId === m.immutableId && c.kind === 'upserted')).toBe(true);
    }
    for (const m of toDelete) {
      expect(announced.some((c) => c.messageId === m.immutableId && c.kind === 'removed')).toBe(true);
    }
  }, 120000);

  it('a duplicate mail.command executes once: the emulator sees no request for it', async () => {
    const exp = await exportOf(aliceAddress);
    const inbox = inboxOf(exp);
    const [target, marker] = exp.messages.filter((m) => m.parentFolderId === inbox && !m.isRead);
    expect(marker).toBeDefined();

    const start = await requestsOf(aliceAddress);
    const id = await submit(alice, { action: 'markRead', messageIds: [target.immutableId], isRead: true });
    await finished(id);
    const once = (await requestsOf(aliceAddress)) - start;
    // the PATCH, and the Inbox's delta page in the mirror round
    expect(once).toBe(2);

    const mid = await requestsOf(aliceAddress);
    await announce(id, alice, 'markRead');
    await announce(id, alice, 'markRead');
    // a marker on the same partition, after the duplicates: once it is done, they were consumed
    const markerId = await submit(alice, {
      action: 'markRead',
      messageIds: [marker.immutableId],
      isRead: true,
    });
    await finished(markerId);
    expect((await requestsOf(aliceAddress)) - mid).toBe(2); // the marker's own two requests, nothing for the duplicates
    expect(statuses(id).filter((e) => e.status === 'sent')).toHaveLength(1);
    expect(statuses(id).filter((e) => e.status === 'done').length).toBeGreaterThanOrEqual(1);
    expect(await commandRow(id)).toMatchObject({ status: 'done' });
    await expectMirrored(alice);
  }, 120000);

  it('moving a message already deleted in Outlook ends failed MESSAGE_GONE, and the local copy goes', async () => {
    const exp = await exportOf(aliceAddress);
    const inbox = inboxOf(exp);
    const victim = exp.messages.find((m) => m.parentFolderId === inbox) as ExportMessage;
    // deleted "elsewhere" (no subscription here: the mirror still has it)
    await emulator.admin('DELETE', `/_emulator/mailboxes/${aliceAddress}/messages/${victim.id}`);
    const held = await db.query(`SELECT 1 FROM messages WHERE account_id = $1 AND remote_id = $2`, [
      alice,
      victim.immutableId,
    ]);
    expect(held.rowCount).toBe(1);

    const id = await submit(alice, {
      action: 'move',
      messageIds: [victim.immutableId],
      destinationFolderId: folderNamed(exp, 'archive'),
    });
    const outcome = await finished(id);
    expect(outcome).toMatchObject({ status: 'failed', reasonCode: 'MESSAGE_GONE' });
    expect(outcome.reason).toMatch(/no longer exists in Outlook/);
    expect(await commandRow(id)).toMatchObject({ status: 'failed', reason_code: 'MESSAGE_GONE' });
    const gone = await db.query(`SELECT 1 FROM messages WHERE account_id = $1 AND remote_id = $2`, [
      alice,
      victim.immutableId,
    ]);
    expect(gone.rowCount).toBe(0);
    await expectMirrored(alice);
  }, 120000);

  it('sends a mail with two attachments: in the sender’s Sent Items and the recipient’s Inbox', async () => {
    const files = [
      { name: 'report.txt', contentType: 'text/plain', content: Buffer.from('quarterly numbers\n') },
      { name: 'chart.bin', contentType: 'application/octet-stream', content: randomBytes(200_000) },
    ];
    const subject = `Report ${randomUUID()}`;
    const id = await submit(
      alice,
      {
        action: 'send',
        subject,
        body: { contentType: 'text', content: 'See the attachments.' },
        toRecipients: [{ address: bobAddress, name: 'Bob' }],
      },
      files,
    );
    const outcome = await finished(id);
    expect(outcome.status).toBe('done');
    expect(statuses(id).map((e) => e.status)).toEqual(['sent', 'done']);
    const left = await db.query(`SELECT 1 FROM mail_command_attachments WHERE command_id = $1`, [id]);
    expect(left.rowCount).toBe(0);

    const sender = await exportOf(aliceAddress);
    const sent = sender.messages.find((m) => m.subject === subject);
    expect(sent?.parentFolderId).toBe(folderNamed(sender, 'sentitems'));
    expect(sent?.hasAttachments).toBe(true);
    const mirrored = await db.query<{ folder_graph_id: string }>(
      `SELECT folder_remote_id AS folder_graph_id FROM messages WHERE account_id = $1 AND remote_id = $2`,
      [alice, sent?.immutableId],
    );
    expect(mirrored.rows).toEqual([{ folder_graph_id: folderNamed(sender, 'sentitems') }]);
    await expectMirrored(alice);

    const recipient = await exportOf(bobAddress);
    const received = recipient.messages.find((m) => m.subject === subject) as ExportMessage;
    expect(received.parentFolderId).toBe(inboxOf(recipient));
    // the attachments as the recipient's provider serves them (the Outlook adapter on the emulator)
    const bobsMailbox = outlook().mailbox(bob).attachments;
    const listed = await bobsMailbox.list(received.immutableId);
    const contents = await Promise.all(
      listed.map(async (a) => {
        const chunks: Buffer[] = [];
        const opened = await bobsMailbox.openContent(received.immutableId, a.id);
        for await (const chunk of opened.body) chunks.push(Buffer.from(chunk as Uint8Array));
        return { name: a.name, content: Buffer.concat(chunks) };
      }),
    );
    expect(
      contents.map((a) => [
        a.name,
        a.content.equals(files.find((f) => f.name === a.name)?.content ?? Buffer.alloc(0)),
      ]),
    ).toEqual([
      ['report.txt', true],
      ['chart.bin', true],
    ]);

    // the recipient's mirror learns of it as of any new mail: from its subscription's notification
    await publisher.publish<MailboxPoke>(topic(Topics.mailboxPokes), bob, {
      type: 'mailbox.poke',
      v: 1,
      accountId: bob,
      source: 'webhook',
      changes: [{ kind: 'created', messageId: received.immutableId }],
      receivedAt: new Date().toISOString(),
    });
    await waitFor(
      async () =>
        (
          await db.query(`SELECT 1 FROM messages WHERE account_id = $1 AND remote_id = $2`, [
            bob,
            received.immutableId,
          ])
        ).rowCount === 1
          ? true
          : undefined,
      { timeoutMs: 30000, intervalMs: 100, what: 'the received mail in the recipient’s mirror' },
    );
    await expectMirrored(bob);
  }, 120000);

  it('replies with an attachment through a draft: the reply is in Sent Items (mirrored) and the other Inbox', async () => {
    const recipient = await exportOf(bobAddress);
    const original = recipient.messages.find((m) => m.subject.startsWith('Report ')) as ExportMessage;
    const id = await submit(
      bob,
      { action: 'reply', messageId: original.immutableId, comment: 'Thanks, notes attached.' },
      [{ name: 'notes.txt', contentType: 'text/plain', content: Buffer.from('looks good') }],
    );
    expect((await finished(id)).status).toBe('done');
    const bobNow = await exportOf(bobAddress);
    const reply = bobNow.messages.find((m) => m.subject === `RE: ${original.subject}`);
    expect(reply?.parentFolderId).toBe(folderNamed(bobNow, 'sentitems'));
    expect(reply?.hasAttachments).toBe(true);
    await expectMirrored(bob);
    const aliceNow = await exportOf(aliceAddress);
    expect(
      aliceNow.messages.some(
        (m) => m.subject === `RE: ${original.subject}` && m.parentFolderId === inboxOf(aliceNow),
      ),
    ).toBe(true);
  }, 120000);

  it('an action and its notification fired together 50 times: the rounds coalesce, nothing is retried, the mirror converges each time', async () => {
    const exp = await exportOf(aliceAddress);
    const targets = exp.messages.filter((m) => m.parentFolderId === inboxOf(exp)).slice(0, 5);
    expect(targets).toHaveLength(5);
    const poke = (messageId: string): MailboxPoke => ({
      type: 'mailbox.poke',
      v: 1,
      accountId: alice,
      source: 'webhook',
      changes: [{ kind: 'updated', messageId }],
      receivedAt: new Date().toISOString(),
    });
    const retried = () =>
      failed().filter((f) =>
        [Topics.mailCommands, Topics.mailboxPokes].map((t) => topic(t)).includes(f.envelope.topic),
      );
    for (let i = 0; i < 50; i += 1) {
      const target = targets[i % targets.length];
      const [id] = await Promise.all([
        submit(alice, {
          action: 'flag',
          messageIds: [target.immutableId],
          flagStatus: Math.floor(i / targets.length) % 2 === 0 ? 'flagged' : 'notFlagged',
        }),
        // the notification Outlook sends for the same change, at the same moment
        publisher.publish(topic(Topics.mailboxPokes), alice, poke(target.immutableId)),
      ]);
      expect(await finished(id)).toMatchObject({ status: 'done' });
      // the command ended only after a round covering it committed, whichever round ran it
      await expectMirrored(alice);
    }
    // no round waited for the mailbox lock behind another round of the same mailbox
    expect(retried()).toEqual([]);
  }, 240000);

  it('an account waiting for re-authorization fails its command REAUTH_REQUIRED without calling Graph', async () => {
    await db.query(`UPDATE mail_accounts SET status = 'reauth_required' WHERE id = $1`, [bob]);
    const start = await requestsOf(bobAddress);
    const exp = await exportOf(bobAddress);
    const id = await submit(bob, { action: 'delete', messageIds: [exp.messages[0].immutableId] });
    expect(await finished(id)).toMatchObject({ status: 'failed', reasonCode: 'REAUTH_REQUIRED' });
    expect(await requestsOf(bobAddress)).toBe(start);
    // nothing was dead-lettered or retried along the way
    expect(failed().filter((f) => f.envelope.topic === topic(Topics.mailCommands))).toEqual([]);
  }, 60000);
});
