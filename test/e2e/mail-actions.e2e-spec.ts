import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import { REALTIME_PATH, type DomainEvent } from '@email-core/contracts';
import {
  apiCall,
  linkOutlook,
  mirroredState,
  settleMirror,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type RunningProduct,
} from '@email-core/testing';

interface ExportFolder {
  id: string;
  isHidden: boolean;
  wellKnownName?: string | null;
  totalItemCount: number;
  unreadItemCount: number;
}
interface ExportMessage {
  immutableId: string;
  parentFolderId: string;
  changeKey: string;
  subject: string;
  isRead: boolean;
  flag: { flagStatus: string };
}
interface CommandView {
  id: string;
  status: 'queued' | 'sent' | 'done' | 'failed';
  reasonCode: string | null;
  reason: string | null;
}
interface Listener {
  socket: Socket;
  events: Array<{ name: string; event: DomainEvent }>;
}
interface MailboxStats {
  requests: number;
}

const PASSWORD = 'mailbox-password';
const SENDER = 'sender@actions.example';
const RECEIVER = 'receiver@actions.example';

/**
 * Issue 6, end to end on the real stack and the emulator: every action through the API reaches Outlook (the
 * emulator's export) and Postgres; a mail with two attachments goes from account A to account B and reaches B's
 * socket; a duplicate command id executes once; invalid input is refused with a code and queues nothing; a move of a
 * mail deleted in Outlook fails with a reason and the mirror converges.
 */
describe('act on mail: commands written back to Outlook', () => {
  let product: RunningProduct;
  let db: Client;
  const users: Record<'A' | 'B', { token: string; accountId: string; listener?: Listener }> = {
    A: { token: '', accountId: '' },
    B: { token: '', accountId: '' },
  };

  const connect = (token: string): Promise<Listener> =>
    new Promise((resolve, reject) => {
      const socket = io(product.api, { path: REALTIME_PATH, auth: { token }, transports: ['websocket'] });
      const listener: Listener = { socket, events: [] };
      socket.onAny((name: string, event: DomainEvent) => listener.events.push({ name, event }));
      socket.once('connect', () => resolve(listener));
      socket.once('connect_error', (err) => reject(err));
    });

  beforeAll(async () => {
    product = await startProduct({
      isolated: true,
      appEnv: { SUBSCRIPTION_CHECK_INTERVAL_MS: '2000', LOG_LEVEL: 'warn' },
    });
    db = new Client({ connectionString: product.databaseUrl });
    await db.connect();
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address: SENDER,
      displayName: 'Sender',
      password: PASSWORD,
      seed: { messages: 700, folders: 2, seed: 61 },
    });
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address: RECEIVER,
      displayName: 'Receiver',
      password: PASSWORD,
      seed: { messages: 40, folders: 1, seed: 62 },
    });
    for (const [key, address] of [
      ['A', SENDER],
      ['B', RECEIVER],
    ] as const) {
      const { token } = await signUp(product.api);
      await linkOutlook(product, token, address, PASSWORD);
      const account = await waitForAccountStatus(product.api, token, 'synced');
      users[key] = { token, accountId: account.id };
    }
    // both mailboxes subscribed, so B hears about the mail A sends
    await waitFor(
      async () => {
        const subs = await product.emulator.admin<{ value: Array<{ state: string }> }>(
          'GET',
          '/_emulator/subscriptions',
        );
        return subs.value.filter((s) => s.state === 'active').length >= 2 ? true : undefined;
      },
      { timeoutMs: 60000, what: 'two subscriptions' },
    );
    users.A.listener = await connect(users.A.token);
    users.B.listener = await connect(users.B.token);
  }, 240000);

  afterAll(async () => {
    users.A.listener?.socket.disconnect();
    users.B.listener?.socket.disconnect();
    await db?.end();
    await product?.stop();
  });

  const submit = (who: 'A' | 'B', body: Record<string, unknown>) =>
    apiCall<CommandView & { error?: string }>(product.api, 'POST', '/api/v1/commands', {
      token: users[who].token,
      body: { accountId: users[who].accountId, ...body },
    });

  const finished = (who: 'A' | 'B', id: string) =>
    waitFor(
      async () => {
        const res = await apiCall<CommandView>(product.api, 'GET', `/api/v1/commands/${id}`, {
          token: users[who].token,
        });
        return res.body.status === 'done' || res.body.status === 'failed' ? res.body : undefined;
      },
      { timeoutMs: 60000, intervalMs: 250, what: `command ${id} to finish` },
    );

  const run = async (who: 'A' | 'B', body: Record<string, unknown>): Promise<CommandView> => {
    const res = await submit(who, body);
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('queued');
    return finished(who, res.body.id);
  };

  const exportOf = (address: string) =>
    product.emulator.admin<{ folders: ExportFolder[]; messages: ExportMessage[] }>(
      'GET',
      `/_emulator/mailboxes/${address}/export?bodies=false`,
    );

  /** Postgres holds exactly what Outlook holds, messages and folder counts (the worker updates the mirror
   * before `done`; a notification round may still be settling: allow a moment). */
  const expectMirrorEqualsExport = async (who: 'A' | 'B') => {
    const address = who === 'A' ? SENDER : RECEIVER;
    const { mirror, exported } = await settleMirror(
      db,
      product.emulator.admin,
      users[who].accountId,
      address,
      20000,
    );
    expect(mirror).toEqual(exported);
  };

  const folderId = async (address: string, wellKnownName: string) => {
    const f = (await exportOf(address)).folders.find((x) => x.wellKnownName === wellKnownName);
    if (!f) throw new Error(`no ${wellKnownName} in ${address}`);
    return f.id;
  };

  const inboxIds = async (address: string, n: number, filter: (m: ExportMessage) => boolean = () => true) => {
    const inbox = await folderId(address, 'inbox');
    const ids = (await exportOf(address)).messages
      .filter((m) => m.parentFolderId === inbox && filter(m))
      .map((m) => m.immutableId)
      .slice(0, n);
    expect(ids).toHaveLength(n);
    return ids;
  };

  const exported = async (address: string, id: string) =>
    (await exportOf(address)).messages.find((m) => m.immutableId === id);

  const countRows = async (accountId: string) => {
    const r = await db.query<{ commands: number; outbox: number }>(
      `SELECT (SELECT count(*)::int FROM mail_commands WHERE account_id = $1::uuid) AS commands,
              (SELECT count(*)::int FROM outbox WHERE message_key = $1::text AND topic LIKE '%mail.commands') AS outbox`,
      [accountId],
    );
    return r.rows[0];
  };

  it('marks read and unread, flags, moves and deletes, in Outlook and in Postgres', async () => {
    const unread = await inboxIds(SENDER, 3, (m) => !m.isRead);
    expect((await run('A', { action: 'markRead', messageIds: unread, isRead: true })).status).toBe('done');
    for (const id of unread) expect((await exported(SENDER, id))?.isRead).toBe(true);
    expect((await run('A', { action: 'markRead', messageIds: [unread[0]], isRead: false })).status).toBe(
      'done',
    );
    expect((await exported(SENDER, unread[0]))?.isRead).toBe(false);

    const toFlag = await inboxIds(SENDER, 2, (m) => m.flag.flagStatus === 'notFlagged');
    expect((await run('A', { action: 'flag', messageIds: toFlag, flagStatus: 'flagged' })).status).toBe(
      'done',
    );
    for (const id of toFlag) expect((await exported(SENDER, id))?.flag.flagStatus).toBe('flagged');

    const archive = await folderId(SENDER, 'archive');
    const toMove = (await inboxIds(SENDER, 6)).slice(3, 5);
    expect(
      (await run('A', { action: 'move', messageIds: toMove, destinationFolderId: archive })).status,
    ).toBe('done');
    for (const id of toMove) expect((await exported(SENDER, id))?.parentFolderId).toBe(archive);

    const toDelete = (await inboxIds(SENDER, 8)).slice(6, 8);
    expect((await run('A', { action: 'delete', messageIds: toDelete })).status).toBe('done');
    for (const id of toDelete) expect(await exported(SENDER, id)).toBeUndefined();

    await expectMirrorEqualsExport('A');
  }, 120000);

  it('bulk: 500 messages marked read, then 500 moved, in one command each', async () => {
    const all = (await exportOf(SENDER)).messages;
    const archive = await folderId(SENDER, 'archive');
    const ids = all
      .filter((m) => m.parentFolderId !== archive)
      .map((m) => m.immutableId)
      .slice(0, 500);
    expect(ids).toHaveLength(500);
    expect((await run('A', { action: 'markRead', messageIds: ids, isRead: true })).status).toBe('done');
    const read = new Set((await exportOf(SENDER)).messages.filter((m) => m.isRead).map((m) => m.immutableId));
    expect(ids.every((id) => read.has(id))).toBe(true);
    expect((await run('A', { action: 'move', messageIds: ids, destinationFolderId: archive })).status).toBe(
      'done',
    );
    const moved = (await exportOf(SENDER)).messages.filter((m) => ids.includes(m.immutableId));
    expect(moved.every((m) => m.parentFolderId === archive)).toBe(true);
    await expectMirrorEqualsExport('A');
  }, 180000);

  it('sends a mail with two attachments from A to B: A’s Sent Items, B’s Inbox and B’s socket', async () => {
    const subject = `Quarterly numbers ${randomUUID().slice(0, 8)}`;
    const files = [
      { name: 'q3.csv', contentType: 'text/csv', bytes: Buffer.from('quarter,revenue\nQ3,1234\n') },
      {
        name: 'logo.bin',
        contentType: 'application/octet-stream',
        bytes: Buffer.from([0, 1, 2, 250, 251, 252]),
      },
    ];
    // the first inline (base64 in the command), the second uploaded beforehand (POST /uploads, raw bytes)
    const uploaded = await fetch(`${product.api}/api/v1/uploads?name=${encodeURIComponent(files[1].name)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${users.A.token}`, 'content-type': files[1].contentType },
      body: files[1].bytes,
    });
    expect(uploaded.status).toBe(201);
    const { uploadId } = (await uploaded.json()) as { uploadId: string };
    const command = await run('A', {
      action: 'send',
      subject,
      body: { contentType: 'html', content: '<p>Numbers attached.</p>' },
      toRecipients: [{ address: RECEIVER, name: 'Receiver' }],
      attachments: [
        {
          name: files[0].name,
          contentType: files[0].contentType,
          contentBase64: files[0].bytes.toString('base64'),
        },
        { uploadId },
      ],
    });
    expect(command.status).toBe('done');

    const sentItems = await folderId(SENDER, 'sentitems');
    const sent = (await exportOf(SENDER)).messages.find((m) => m.subject === subject);
    expect(sent?.parentFolderId).toBe(sentItems);
    const inbox = await folderId(RECEIVER, 'inbox');
    const received = await waitFor(
      async () => (await exportOf(RECEIVER)).messages.find((m) => m.subject === subject),
      { timeoutMs: 10000, what: 'the mail in the receiver’s mailbox' },
    );
    expect(received.parentFolderId).toBe(inbox);

    // B's dashboard socket hears of it (through B's subscription, the webhook and B's change processing)
    const onBsSocket = () =>
      users.B.listener!.events.some(
        (e) =>
          e.event.type === 'mail.changed' &&
          e.event.changes.some((c) => c.messageId === received.immutableId && c.kind === 'created'),
      );
    await waitFor(() => Promise.resolve(onBsSocket() ? true : undefined), {
      timeoutMs: 20000,
      what: 'the mail on B’s socket',
    });

    // both attachments, byte for byte, through B's own API (streamed from Graph)
    const list = await apiCall<{ items: Array<{ id: string; name: string; size: number }> }>(
      product.api,
      'GET',
      `/api/v1/messages/${encodeURIComponent(received.immutableId)}/attachments`,
      { token: users.B.token },
    );
    expect(list.status).toBe(200);
    expect(list.body.items.map((a) => a.name).sort()).toEqual(files.map((f) => f.name).sort());
    for (const f of files) {
      const a = list.body.items.find((x) => x.name === f.name)!;
      const res = await fetch(
        `${product.api}/api/v1/messages/${encodeURIComponent(received.immutableId)}/attachments/${encodeURIComponent(a.id)}/content`,
        { headers: { authorization: `Bearer ${users.B.token}` } },
      );
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(f.bytes)).toBe(true);
    }
    // A cannot read B's attachments
    expect(
      (
        await apiCall(
          product.api,
          'GET',
          `/api/v1/messages/${encodeURIComponent(received.immutableId)}/attachments`,
          { token: users.A.token },
        )
      ).status,
    ).toBe(404);

    // the staged attachment bytes are gone once Graph has them
    expect(
      (await db.query(`SELECT 1 FROM mail_command_attachments WHERE command_id = $1`, [command.id])).rowCount,
    ).toBe(0);
    await expectMirrorEqualsExport('A');
    await expectMirrorEqualsExport('B');
  }, 120000);

  it('replies and forwards (with an attachment), landing in Sent Items and the recipient’s Inbox', async () => {
    // a subject without a prefix, so the expected "RE: " and "FW: " subjects are plain (Outlook does not stack them)
    const [original] = await inboxIds(SENDER, 1, (m) => !/^(re|fw|fwd):/i.test(m.subject));
    const before = (await exportOf(SENDER)).messages.length;
    expect((await run('A', { action: 'reply', messageId: original, comment: 'Thanks!' })).status).toBe(
      'done',
    );
    const forward = await run('A', {
      action: 'forward',
      messageId: original,
      comment: 'FYI',
      toRecipients: [{ address: RECEIVER }],
      attachments: [
        { name: 'note.txt', contentType: 'text/plain', contentBase64: Buffer.from('hi').toString('base64') },
      ],
    });
    expect(forward.status).toBe('done');
    const sentItems = await folderId(SENDER, 'sentitems');
    const after = await exportOf(SENDER);
    expect(after.messages.length).toBe(before + 2);
    const subjectOf = (await exported(SENDER, original))!.subject;
    expect(after.messages.filter((m) => m.parentFolderId === sentItems).map((m) => m.subject)).toEqual(
      expect.arrayContaining([`RE: ${subjectOf}`, `FW: ${subjectOf}`]),
    );
    await waitFor(
      async () =>
        (await exportOf(RECEIVER)).messages.some((m) => m.subject === `FW: ${subjectOf}`) ? true : undefined,
      { timeoutMs: 10000, what: 'the forward in the receiver’s inbox' },
    );
    await expectMirrorEqualsExport('A');
    await expectMirrorEqualsExport('B');
  }, 120000);

  it('a duplicate command id executes once: the second submission sends Graph nothing', async () => {
    const [id] = await inboxIds(RECEIVER, 1, (m) => m.flag.flagStatus === 'notFlagged');
    const body = { id: randomUUID(), action: 'flag', messageIds: [id], flagStatus: 'complete' };
    const changeKeyBefore = (await exported(RECEIVER, id))!.changeKey;
    // submitted twice at once: one is stored and queued, the other answers what is there
    const [first, second] = await Promise.all([submit('B', body), submit('B', body)]);
    expect([first.status, second.status].sort()).toEqual([200, 202]);
    expect(first.body.id).toBe(body.id);
    expect(second.body.id).toBe(body.id);
    expect((await finished('B', body.id)).status).toBe('done');
    const stats = async () =>
      (await product.emulator.admin<{ mailboxes: Record<string, MailboxStats> }>('GET', '/_emulator/stats'))
        .mailboxes[RECEIVER].requests;
    // on B's mailbox, which no earlier command touched (A's still hears of the bulk move's 1,000 changes), and
    // only once it has gone quiet, so any request counted below would be the resubmission's
    let requestsBefore = await stats();
    await waitFor(
      async () => {
        await new Promise((r) => setTimeout(r, 3000));
        const now = await stats();
        const quiet = now === requestsBefore;
        requestsBefore = now;
        return quiet ? true : undefined;
      },
      { timeoutMs: 90000, intervalMs: 0, what: 'the receiver’s mailbox to go quiet' },
    );
    const third = await submit('B', body);
    expect(third.status).toBe(200);
    expect(third.body.status).toBe('done');
    await new Promise((r) => setTimeout(r, 2000));
    expect(await stats()).toBe(requestsBefore);
    // exactly one PATCH reached Outlook: the message changed once
    const after = (await exported(RECEIVER, id))!;
    expect(after.flag.flagStatus).toBe('complete');
    expect(after.changeKey).not.toBe(changeKeyBefore);
    const version = (k: string) => Number(/(\d+)$/.exec(k)?.[1] ?? NaN);
    expect(version(after.changeKey) - version(changeKeyBefore)).toBe(1);
    // the same id with another request is a conflict, and queues nothing
    const conflict = await submit('B', { ...body, flagStatus: 'flagged' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toBe('COMMAND_ID_CONFLICT');
    expect((await countRows(users.B.accountId)).commands).toBeGreaterThan(0);
  }, 180000);

  it('refuses invalid input with a code and queues nothing', async () => {
    const before = await countRows(users.A.accountId);
    const beforeB = await countRows(users.B.accountId);
    const [mine] = await inboxIds(SENDER, 1);
    const [theirs] = await inboxIds(RECEIVER, 1);
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [
        { action: 'move', messageIds: [mine], destinationFolderId: 'AAMkNoSuchFolder=' },
        422,
        'UNKNOWN_FOLDER',
      ],
      [{ action: 'send', subject: 'x', body: { content: 'x' }, toRecipients: [] }, 400, 'NO_RECIPIENTS'],
      [
        {
          action: 'send',
          subject: 'big',
          body: { content: 'x' },
          toRecipients: [{ address: RECEIVER }],
          // inline attachments count against the command's 4 MiB JSON limit: large files are uploaded
          attachments: [
            { name: 'big.bin', contentBase64: Buffer.alloc(3 * 1024 * 1024 + 1).toString('base64') },
          ],
        },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [{ action: 'markRead', messageIds: [theirs], isRead: true }, 404, 'MESSAGE_NOT_FOUND'],
    ];
    for (const [body, status, code] of cases) {
      const res = await submit('A', body);
      expect({ action: body.action, status: res.status, error: res.body.error }).toEqual({
        action: body.action,
        status,
        error: code,
      });
    }
    // B's account through A's session is not A's to act on
    const foreign = await apiCall<{ error: string }>(product.api, 'POST', '/api/v1/commands', {
      token: users.A.token,
      body: { accountId: users.B.accountId, action: 'markRead', messageIds: [theirs], isRead: true },
    });
    expect(foreign.status).toBe(404);
    expect(await countRows(users.A.accountId)).toEqual(before);
    expect(await countRows(users.B.accountId)).toEqual(beforeB);
  }, 60000);

  it('moving a mail already deleted in Outlook fails with a reason, and the mirror converges', async () => {
    const [id] = await inboxIds(SENDER, 1);
    // Hold the deletion's notification back while the move is submitted: otherwise the mirror can learn of the
    // deletion first and the API rightly refuses the id (404) before any command exists (seen in a CI run).
    await product.emulator.admin('POST', '/_emulator/faults', { notifications: { delayMs: 5000 } });
    await product.emulator.admin(
      'DELETE',
      `/_emulator/mailboxes/${SENDER}/messages/${encodeURIComponent(id)}`,
    );
    const archive = await folderId(SENDER, 'archive');
    const submitted = run('A', { action: 'move', messageIds: [id], destinationFolderId: archive });
    const result = await submitted.finally(() =>
      product.emulator.admin('POST', '/_emulator/faults', { notifications: { delayMs: 0 } }),
    );
    expect(result.status).toBe('failed');
    expect(result.reasonCode).toBe('MESSAGE_GONE');
    expect(result.reason).toBeTruthy();
    await expectMirrorEqualsExport('A');
    expect((await mirroredState(db, users.A.accountId)).messages.some((m) => m.id === id)).toBe(false);
  }, 60000);

  it('each user’s socket saw only their own account’s events; command outcomes reached A', () => {
    const a = users.A.listener!.events;
    const b = users.B.listener!.events;
    expect(a.every((e) => e.event.accountId === users.A.accountId)).toBe(true);
    expect(b.every((e) => e.event.accountId === users.B.accountId)).toBe(true);
    const statuses = a.filter((e) => e.event.type === 'command.status').map((e) => e.event);
    expect(statuses.some((e) => e.type === 'command.status' && e.status === 'done')).toBe(true);
    expect(
      statuses.some(
        (e) => e.type === 'command.status' && e.status === 'failed' && e.reasonCode === 'MESSAGE_GONE',
      ),
    ).toBe(true);
    expect(a.some((e) => e.event.type === 'mail.changed')).toBe(true);
  });
});
