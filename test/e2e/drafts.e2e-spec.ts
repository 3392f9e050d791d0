import { randomBytes, randomUUID } from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import { Client } from 'pg';
import {
  apiCall,
  devMailServer,
  linkDevImap,
  linkOutlook,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  withDevImapSession,
  type DevMailServer,
  type RunningProduct,
} from '@email-core/testing';

interface CommandView {
  id: string;
  status: 'queued' | 'sent' | 'done' | 'failed';
  reasonCode: string | null;
  reason: string | null;
  draftId: string | null;
}

interface ExportMessage {
  immutableId: string;
  parentFolderId: string;
  subject: string;
  isDraft: boolean;
  conversationId: string;
  body: { contentType: string; content: string };
  toRecipients: Array<{ emailAddress: { address: string } }>;
}

/** a message of a folder as the provider holds it, read without the product's code */
interface HeldMessage {
  subject: string;
  draft: boolean;
  /** IMAP: In-Reply-To; Outlook: the conversation id */
  thread: string;
}

const tag = randomBytes(4).toString('hex');
const PASSWORD = 'drafts-mailbox-password';
const OUTLOOK = `olga-${tag}@drafts.example`;
const OUTLOOK_PEER = `peer-${tag}@drafts.example`;
const IMAP = `ivan-${tag}@drafts-imap.example`;
const IMAP_PEER = `ivan-peer-${tag}@drafts-imap.example`;
const ORIGINAL_ID = `<original-${tag}@elsewhere.example>`;

/**
 * Drafts through the commands API on the real stack, for an Outlook account (the emulator) and an IMAP account
 * (the stack's Dovecot + Postfix), each checked at the provider (the emulator's export; an IMAP session of the
 * test's own): two saves of a draft leave one draft; saves racing each other leave one; sending a draft leaves it
 * in Sent once and nowhere in Drafts, and the recipient gets it; a reply draft keeps its thread through saves and
 * the send; a discarded draft is gone (not in Trash either); a save after the send is refused.
 */
describe('drafts: save, replace, send, discard (Outlook and IMAP)', () => {
  let product: RunningProduct;
  let mail: DevMailServer;
  let db: Client;
  let token: string;
  const accounts = { outlook: '', imap: '' };

  beforeAll(async () => {
    const server = devMailServer();
    if (!server) throw new Error('no dev mail server: run `npm run stack:up` (MAIL_IMAP, MAIL_SUBMISSION)');
    mail = server;
    product = await startProduct({ isolated: true, appEnv: { LOG_LEVEL: 'warn' } });
    db = new Client({ connectionString: product.databaseUrl });
    await db.connect();
    for (const address of [OUTLOOK, OUTLOOK_PEER]) {
      await product.emulator.admin('POST', '/_emulator/mailboxes', {
        address,
        displayName: address.split('@')[0],
        password: PASSWORD,
        seed: { messages: 6, folders: 1, seed: 2310 },
      });
    }
    // the IMAP mailbox holds one mail to reply to
    await withDevImapSession(mail, IMAP, async (c) => {
      await c.append(
        'INBOX',
        [
          'From: Petra Novak <petra@elsewhere.example>',
          `To: ${IMAP}`,
          'Subject: Quarterly numbers',
          `Message-ID: ${ORIGINAL_ID}`,
          `Date: ${new Date().toUTCString()}`,
          'Content-Type: text/plain; charset=utf-8',
          '',
          'Can you send the numbers?',
          '',
        ].join('\r\n'),
      );
    });
    ({ token } = await signUp(product.api));
    await linkOutlook(product, token, OUTLOOK, PASSWORD);
    accounts.outlook = (await waitForAccountStatus(product.api, token, 'synced')).id;
    accounts.imap = await linkDevImap(product.api, token, mail, IMAP);
    await waitForAccountStatus(product.api, token, 'synced', {
      accountId: accounts.imap,
      timeoutMs: 120_000,
    });
  }, 240_000);

  afterAll(async () => {
    await db?.end();
    await product?.stop();
  });

  type Provider = keyof typeof accounts;

  const submit = (provider: Provider, body: Record<string, unknown>) =>
    apiCall<CommandView & { error?: string }>(product.api, 'POST', '/api/v1/commands', {
      token,
      body: { accountId: accounts[provider], ...body },
    });

  const finished = (id: string) =>
    waitFor(
      async () => {
        const res = await apiCall<CommandView>(product.api, 'GET', `/api/v1/commands/${id}`, { token });
        return res.body.status === 'done' || res.body.status === 'failed' ? res.body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `command ${id} to finish` },
    );

  const run = async (provider: Provider, body: Record<string, unknown>): Promise<CommandView> => {
    const res = await submit(provider, body);
    expect(res.status).toBe(202);
    return finished(res.body.id);
  };

  const peerOf = (provider: Provider) => (provider === 'outlook' ? OUTLOOK_PEER : IMAP_PEER);

  const save = (provider: Provider, draftKey: string, subject: string, extra: Record<string, unknown> = {}) =>
    run(provider, {
      action: 'saveDraft',
      draftKey,
      subject,
      body: { contentType: 'html', content: `<p>${subject}</p>` },
      toRecipients: [{ address: peerOf(provider) }],
      ...extra,
    });

  // ---- the provider's own view ----

  const exportOf = (address: string) =>
    product.emulator.admin<{
      folders: Array<{ id: string; wellKnownName?: string | null }>;
      messages: ExportMessage[];
    }>('GET', `/_emulator/mailboxes/${address}/export`);

  async function outlookFolder(
    address: string,
    wellKnownName: string,
    prefix: string,
  ): Promise<HeldMessage[]> {
    const view = await exportOf(address);
    const folder = view.folders.find((f) => f.wellKnownName === wellKnownName)!.id;
    return view.messages
      .filter((m) => m.parentFolderId === folder && m.subject.includes(prefix))
      .map((m) => ({ subject: m.subject, draft: m.isDraft, thread: m.conversationId }));
  }

  async function imapFolder(address: string, specialUse: string, prefix: string): Promise<HeldMessage[]> {
    return withDevImapSession(mail, address, async (c: ImapFlow) => {
      const path = (await c.list()).find(
        (f) => f.specialUse === specialUse || (specialUse === '\\Inbox' && f.path === 'INBOX'),
      )?.path;
      if (!path) return [];
      const lock = await c.getMailboxLock(path);
      try {
        const uids = (await c.search({ subject: prefix }, { uid: true })) || [];
        if (uids.length === 0) return [];
        const out: HeldMessage[] = [];
        for await (const m of c.fetch(
          uids.join(','),
          { uid: true, flags: true, envelope: true },
          { uid: true },
        )) {
          out.push({
            subject: m.envelope?.subject ?? '',
            draft: m.flags?.has('\\Draft') ?? false,
            thread: m.envelope?.inReplyTo ?? '',
          });
        }
        return out;
      } finally {
        lock.release();
      }
    });
  }

  const held = (provider: Provider, where: 'drafts' | 'sent' | 'trash' | 'peer', prefix: string) => {
    if (provider === 'outlook') {
      if (where === 'peer') return outlookFolder(OUTLOOK_PEER, 'inbox', prefix);
      return outlookFolder(
        OUTLOOK,
        { drafts: 'drafts', sent: 'sentitems', trash: 'deleteditems' }[where],
        prefix,
      );
    }
    if (where === 'peer') return imapFolder(IMAP_PEER, '\\Inbox', prefix);
    return imapFolder(IMAP, { drafts: '\\Drafts', sent: '\\Sent', trash: '\\Trash' }[where], prefix);
  };

  /** the mirror's rows of the account with that subject, by folder (the worker's round runs before `done`) */
  const mirrored = async (provider: Provider, prefix: string) =>
    (
      await db.query<{ subject: string; folder: string; is_draft: boolean }>(
        `SELECT m.subject, f.well_known_name AS folder, m.is_draft FROM messages m
           JOIN mail_folders f ON f.account_id = m.account_id AND f.remote_id = m.folder_remote_id
          WHERE m.account_id = $1 AND m.subject LIKE $2`,
        [accounts[provider], `%${prefix}%`],
      )
    ).rows;

  describe.each(['outlook', 'imap'] as const)('%s', (provider) => {
    it('two saves of a draft leave one draft, the second; saves racing each other leave one too', async () => {
      const key = randomUUID();
      const prefix = `Plan ${provider} ${tag}`;
      const first = await save(provider, key, `${prefix} v1`);
      expect(first.status).toBe('done');
      expect(typeof first.draftId).toBe('string');
      const second = await save(provider, key, `${prefix} v2`);
      expect(second.status).toBe('done');
      // Graph keeps the draft's id through a PATCH; IMAP's changes with every APPEND
      if (provider === 'outlook') expect(second.draftId).toBe(first.draftId);
      else expect(second.draftId).not.toBe(first.draftId);
      expect(
        (await held(provider, 'drafts', prefix)).map((m) => ({ subject: m.subject, draft: m.draft })),
      ).toEqual([{ subject: `${prefix} v2`, draft: true }]);

      // three saves submitted back to back, before any has run: still one draft, the last one written
      const racing = await Promise.all(
        [3, 4, 5].map((v) =>
          submit(provider, {
            action: 'saveDraft',
            draftKey: key,
            subject: `${prefix} v${v}`,
            body: { contentType: 'text', content: `version ${v}` },
            toRecipients: [{ address: peerOf(provider) }],
          }),
        ),
      );
      for (const r of racing) expect((await finished(r.body.id)).status).toBe('done');
      const drafts = await held(provider, 'drafts', prefix);
      expect(drafts).toHaveLength(1);
      expect(drafts[0].subject).toMatch(new RegExp(`^${prefix} v[345]$`));
      const rows = await mirrored(provider, prefix);
      // the mirror holds the one draft too, in Drafts, and says it is a draft (messages.is_draft)
      expect(rows).toEqual([{ subject: drafts[0].subject, folder: 'drafts', is_draft: true }]);
    });

    it('sending a draft leaves it once in Sent, none in Drafts, and the recipient gets it', async () => {
      const key = randomUUID();
      const prefix = `Send ${provider} ${tag}`;
      await save(provider, key, `${prefix} draft`);
      await save(provider, key, `${prefix} final`);
      const sent = await run(provider, { action: 'sendDraft', draftKey: key });
      expect(sent).toMatchObject({ status: 'done', reasonCode: null });
      expect(await held(provider, 'drafts', prefix)).toEqual([]);
      const inSent = await held(provider, 'sent', prefix);
      expect(inSent).toHaveLength(1);
      expect(inSent[0]).toMatchObject({ subject: `${prefix} final`, draft: false });
      const arrived = await waitFor(
        async () => {
          const got = await held(provider, 'peer', prefix);
          return got.length > 0 ? got : undefined;
        },
        { timeoutMs: 30_000, what: 'the sent draft at the recipient' },
      );
      expect(arrived.map((m) => m.subject)).toEqual([`${prefix} final`]);
      // the mirror: gone from Drafts, in Sent
      await waitFor(
        async () => {
          const rows = await mirrored(provider, prefix);
          return rows.length === 1 && rows[0].folder === 'sentitems' && !rows[0].is_draft ? rows : undefined;
        },
        { timeoutMs: 20_000, what: 'the mirror to show the draft sent' },
      );
      // a save of the sent draft is refused (a late autosave must not make a new draft)
      const late = await save(provider, key, `${prefix} late`);
      expect(late).toMatchObject({ status: 'failed', reasonCode: 'DRAFT_CLOSED' });
      expect(await held(provider, 'drafts', prefix)).toEqual([]);
    });

    it('a reply draft keeps its thread through saves and the send', async () => {
      let originalId: string;
      let thread: string;
      let subject: string;
      if (provider === 'outlook') {
        const view = await exportOf(OUTLOOK);
        const inbox = view.folders.find((f) => f.wellKnownName === 'inbox')!.id;
        const original = view.messages.find((m) => m.parentFolderId === inbox)!;
        originalId = original.immutableId;
        thread = original.conversationId;
        subject = `Re: ${original.subject} ${tag}`;
      } else {
        const row = await db.query<{ remote_id: string }>(
          `SELECT remote_id FROM messages WHERE account_id = $1 AND subject = 'Quarterly numbers'`,
          [accounts.imap],
        );
        originalId = row.rows[0].remote_id;
        thread = ORIGINAL_ID;
        subject = `Re: Quarterly numbers ${tag}`;
      }
      const key = randomUUID();
      const origin = { messageId: originalId, kind: 'reply' };
      expect((await save(provider, key, subject, { origin })).status).toBe('done');
      expect(await held(provider, 'drafts', tag)).toEqual(
        expect.arrayContaining([{ subject, draft: true, thread }]),
      );
      // a second save (the dashboard names the origin every time; it is used when creating only)
      expect((await save(provider, key, `${subject} (2)`, { origin })).status).toBe('done');
      const drafts = (await held(provider, 'drafts', tag)).filter((m) => m.subject.startsWith(subject));
      expect(drafts).toEqual([{ subject: `${subject} (2)`, draft: true, thread }]);
      expect((await run(provider, { action: 'sendDraft', draftKey: key })).status).toBe('done');
      const inSent = (await held(provider, 'sent', tag)).filter((m) => m.subject.startsWith(subject));
      expect(inSent).toEqual([{ subject: `${subject} (2)`, draft: false, thread }]);
    });

    it('a reply draft reopened from Drafts stays a reply: its origin is served, re-saves and the send keep its thread', async () => {
      let originalId: string;
      let thread: string;
      let subject: string;
      if (provider === 'outlook') {
        const view = await exportOf(OUTLOOK);
        const inbox = view.folders.find((f) => f.wellKnownName === 'inbox')!.id;
        const original = view.messages.filter((m) => m.parentFolderId === inbox)[1];
        originalId = original.immutableId;
        thread = original.conversationId;
        subject = `Re: ${original.subject} reopened ${tag}`;
      } else {
        const row = await db.query<{ remote_id: string }>(
          `SELECT remote_id FROM messages WHERE account_id = $1 AND subject = 'Quarterly numbers'`,
          [accounts.imap],
        );
        originalId = row.rows[0].remote_id;
        thread = ORIGINAL_ID;
        subject = `Re: Quarterly numbers reopened ${tag}`;
      }
      const detail = async (id: string) =>
        (
          await apiCall<{ draftOrigin: unknown; conversationId: string | null }>(
            product.api,
            'GET',
            `/api/v1/accounts/${accounts[provider]}/messages/${encodeURIComponent(id)}`,
            { token },
          )
        ).body;
      const origin = { messageId: originalId, kind: 'reply' };
      const first = await save(provider, randomUUID(), subject, { origin });
      expect(first.status).toBe('done');
      // closed; reopened from Drafts: the read API says what the draft answers, so compose opens it as a reply
      expect((await detail(first.draftId!)).draftOrigin).toEqual(origin);

      // the reopened window: a key of its own, the draft's id, no origin (the worker keeps it with the draft)
      const key = randomUUID();
      const second = await save(provider, key, `${subject} (2)`, { draftId: first.draftId });
      expect(second.status).toBe('done');
      expect((await detail(second.draftId!)).draftOrigin).toEqual(origin);
      expect((await held(provider, 'drafts', tag)).filter((m) => m.subject.startsWith(subject))).toEqual([
        { subject: `${subject} (2)`, draft: true, thread },
      ]);
      // deleted at the provider meanwhile (another client): the next save creates it anew, as a reply still
      if (provider === 'outlook') {
        await product.emulator.admin('DELETE', `/_emulator/mailboxes/${OUTLOOK}/messages/${second.draftId}`);
      } else {
        await withDevImapSession(mail, IMAP, async (c) => {
          const lock = await c.getMailboxLock('Drafts');
          try {
            const uids = (await c.search({ subject: `${subject} (2)` }, { uid: true })) || [];
            expect(uids).toHaveLength(1);
            await c.messageDelete(uids.join(','), { uid: true });
          } finally {
            lock.release();
          }
        });
      }
      expect(await held(provider, 'drafts', subject)).toEqual([]);
      const third = await save(provider, key, `${subject} (3)`);
      expect(third.status).toBe('done');
      expect((await held(provider, 'drafts', tag)).filter((m) => m.subject.startsWith(subject))).toEqual([
        { subject: `${subject} (3)`, draft: true, thread },
      ]);

      expect((await run(provider, { action: 'sendDraft', draftKey: key })).status).toBe('done');
      const inSent = (await held(provider, 'sent', tag)).filter((m) => m.subject.startsWith(subject));
      expect(inSent).toEqual([{ subject: `${subject} (3)`, draft: false, thread }]);
      if (provider === 'imap') {
        // the Sent copy's own headers: In-Reply-To and References name the original
        const headers = await withDevImapSession(mail, IMAP, async (c: ImapFlow) => {
          const lock = await c.getMailboxLock('Sent');
          try {
            const uids = (await c.search({ subject: `${subject} (3)` }, { uid: true })) || [];
            expect(uids).toHaveLength(1);
            const m = await c.fetchOne(
              String(uids[0]),
              { headers: ['in-reply-to', 'references'] },
              { uid: true },
            );
            return m ? (m.headers?.toString('utf8') ?? '') : '';
          } finally {
            lock.release();
          }
        });
        expect(headers).toMatch(new RegExp(`^In-Reply-To: ${ORIGINAL_ID}\\s*$`, 'im'));
        expect(headers).toMatch(new RegExp(`^References: ${ORIGINAL_ID}\\s*$`, 'im'));
      }
      // and the mirror threads it with the original: one conversation, across Inbox and Sent
      const conversationId = (await detail(originalId)).conversationId!;
      const conversation = await waitFor(
        async () => {
          const res = await apiCall<{ messages?: Array<{ id: string; subject: string; folderId: string }> }>(
            product.api,
            'GET',
            `/api/v1/accounts/${accounts[provider]}/conversations/${encodeURIComponent(conversationId)}`,
            { token },
          );
          return res.body.messages?.some((m) => m.subject === `${subject} (3)`)
            ? res.body.messages
            : undefined;
        },
        { timeoutMs: 30_000, what: 'the sent reply in the conversation of the original' },
      );
      expect(conversation.map((m) => m.id)).toContain(originalId);
      // a sent draft's origin is forgotten
      const kept = await db.query(`SELECT 1 FROM draft_origins WHERE account_id = $1 AND draft_id = $2`, [
        accounts[provider],
        third.draftId,
      ]);
      expect(kept.rowCount).toBe(0);
    });

    it('a discarded draft is gone for good; discarding again is done', async () => {
      const key = randomUUID();
      const prefix = `Discard ${provider} ${tag}`;
      await save(provider, key, `${prefix} one`);
      expect(await held(provider, 'drafts', prefix)).toHaveLength(1);
      expect((await run(provider, { action: 'discardDraft', draftKey: key })).status).toBe('done');
      expect(await held(provider, 'drafts', prefix)).toEqual([]);
      expect(await held(provider, 'trash', prefix)).toEqual([]);
      expect((await run(provider, { action: 'discardDraft', draftKey: key })).status).toBe('done');
      expect(await mirrored(provider, prefix)).toEqual([]);
    });
  });
});
