import { Logger } from '@nestjs/common';
import type { MailCommandAction, MailCommandStatus } from '@email-core/contracts';
import type {
  AccountForSync,
  MailAccountSyncRepository,
  MailCommandsRepository,
  MailCommandView,
  StoredMailCommand,
} from '@email-core/database';
import type { MirrorTouch } from '../actions/action-result';
import { DraftActions } from '../actions/draft-actions';
import { MessageActions } from '../actions/message-actions';
import { NotSentError, OutgoingMail } from '../actions/outgoing-mail';
import type { CommandLock } from '../command-lock';
import type { CommandStatusEvents } from '../command-status';
import type { MirrorRound } from '../mirror-round';
import type { MailboxActions } from '@email-core/providers';
import { scriptedRegistry } from '../../mirror/testing/test-providers';
import { FakeMailGraph, graphErrors } from '../testing/fake-mail-graph';
import { ExecuteMailCommandCommand } from './execute-mail-command.command';
import { ExecuteMailCommandHandler } from './execute-mail-command.handler';

const ACCOUNT = '7f0c1f7e-5d0a-4a53-9a53-2b8f7f9b8a11';
const USER = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
const CMD = '9b2d6c1e-8a4f-4c3b-9e7d-1f2a3b4c5d6e';

type Attachment = { name: string; contentType: string; content: Buffer };

/** `mail_commands` in memory, with the repository's conditional `transition`. */
class FakeCommands {
  readonly rows = new Map<string, StoredMailCommand>();
  readonly attachments = new Map<string, Attachment[]>();
  readonly log: string[] = [];
  /** another worker claims the command between our load and our claim */
  stealClaim = false;

  add(action: MailCommandAction, request: Record<string, unknown>, status: MailCommandStatus = 'queued') {
    const at = new Date().toISOString();
    this.rows.set(CMD, {
      id: CMD,
      accountId: ACCOUNT,
      userId: USER,
      action,
      status,
      reasonCode: null,
      reason: null,
      draftId: null,
      createdAt: at,
      updatedAt: at,
      request: { accountId: ACCOUNT, action, ...request },
    });
  }

  get(): StoredMailCommand {
    return this.rows.get(CMD) as StoredMailCommand;
  }

  load(id: string) {
    const row = this.rows.get(id);
    return Promise.resolve(row ? { ...row } : null);
  }
  loadAttachments(id: string) {
    return Promise.resolve(this.attachments.get(id) ?? []);
  }
  transition(
    id: string,
    from: MailCommandStatus[],
    to: MailCommandStatus,
    reason?: { code: string; message: string },
  ): Promise<MailCommandView | null> {
    const row = this.rows.get(id);
    if (this.stealClaim && to === 'sent' && row) {
      row.status = 'sent';
      this.stealClaim = false;
    }
    if (!row || !from.includes(row.status)) return Promise.resolve(null);
    row.status = to;
    row.reasonCode = reason?.code ?? null;
    row.reason = reason?.message ?? null;
    row.updatedAt = new Date().toISOString();
    this.log.push(to);
    return Promise.resolve({ ...row });
  }
  dropAttachments(id: string) {
    this.attachments.delete(id);
    this.log.push('dropAttachments');
    return Promise.resolve();
  }
}

function harness(opts: { accountStatus?: AccountForSync['status'] } = {}) {
  const commands = new FakeCommands();
  const graph = new FakeMailGraph();
  const account: AccountForSync = {
    id: ACCOUNT,
    userId: USER,
    status: opts.accountStatus ?? 'synced',
    syncCompletedAt: new Date(),
  };
  const accounts = { findForSync: () => Promise.resolve({ ...account }) };
  const events: Array<Pick<MailCommandView, 'status' | 'reasonCode' | 'reason'>> = [];
  const status = {
    announce: (_userId: string, v: MailCommandView) => {
      events.push({ status: v.status, reasonCode: v.reasonCode, reason: v.reason });
      return Promise.resolve();
    },
  };
  const rounds: MirrorTouch[][] = [];
  const mirror = {
    converge: (_a: string, touched: readonly MirrorTouch[]) => {
      rounds.push([...touched]);
      return Promise.resolve();
    },
  };
  const lock = {
    run: (_a: string, _c: string, signal: AbortSignal, work: (s: AbortSignal) => Promise<unknown>) =>
      work(signal),
  };
  const handler = new ExecuteMailCommandHandler(
    commands as unknown as MailCommandsRepository,
    accounts as unknown as MailAccountSyncRepository,
    new MessageActions({ idConcurrency: 2, concurrentPartitions: 1, lockWaitMs: 0 }),
    new OutgoingMail(),
    new DraftActions(commands as unknown as MailCommandsRepository, new OutgoingMail()),
    mirror as unknown as MirrorRound,
    status as unknown as CommandStatusEvents,
    lock as unknown as CommandLock,
    scriptedRegistry((): MailboxActions => graph),
  );
  const execute = (finalAttempt = false) => handler.execute(new ExecuteMailCommandCommand(CMD, finalAttempt));
  return { commands, graph, account, events, rounds, execute };
}

const sendRequest = {
  subject: 'Hello',
  body: { contentType: 'text', content: 'Hi Bob' },
  toRecipients: [{ address: 'bob@contoso.example' }],
  attachments: [{ name: 'a.txt', contentType: 'text/plain', size: 5 }],
};

beforeAll(() => {
  Logger.overrideLogger(false);
});

describe('ExecuteMailCommand', () => {
  describe('idempotency', () => {
    it('claims a queued command, calls Graph once per id, runs the mirror round, ends done', async () => {
      const h = harness();
      h.commands.add('markRead', { messageIds: ['m1', 'm2', 'm3'], isRead: true });
      await expect(h.execute()).resolves.toBe('done');
      expect(h.graph.calls.sort()).toEqual(['setRead:m1', 'setRead:m2', 'setRead:m3']);
      expect(h.commands.log).toEqual(['sent', 'done']);
      expect(h.events.map((e) => e.status)).toEqual(['sent', 'done']);
      expect(h.rounds).toHaveLength(1);
      expect(h.rounds[0].map((t) => `${t.changeType}:${t.messageId}`).sort()).toEqual([
        'updated:m1',
        'updated:m2',
        'updated:m3',
      ]);
    });

    it('a redelivered message finds the command finished: no Graph call, the outcome is announced again', async () => {
      const h = harness();
      h.commands.add('flag', { messageIds: ['m1'], flagStatus: 'flagged' });
      await h.execute();
      const calls = h.graph.calls.length;
      await expect(h.execute()).resolves.toBe('already_finished');
      await expect(h.execute()).resolves.toBe('already_finished');
      expect(h.graph.calls).toHaveLength(calls);
      expect(h.commands.log).toEqual(['sent', 'done']);
      expect(h.events.map((e) => e.status)).toEqual(['sent', 'done', 'done', 'done']);
    });

    it('does nothing when another delivery claimed the command first', async () => {
      const h = harness();
      h.commands.add('delete', { messageIds: ['m1'] });
      h.commands.stealClaim = true;
      await expect(h.execute()).resolves.toBe('not_claimed');
      expect(h.graph.calls).toEqual([]);
      expect(h.events).toEqual([]);
    });
  });

  describe('a command found in sent (the worker stopped mid-way)', () => {
    it('redoes read, flag, move and delete: they are safe to repeat', async () => {
      for (const [action, request] of [
        ['markRead', { messageIds: ['m1'], isRead: false }],
        ['flag', { messageIds: ['m1'], flagStatus: 'complete' }],
        ['move', { messageIds: ['m1'], destinationFolderId: 'archive' }],
        ['delete', { messageIds: ['m1'] }],
      ] as const) {
        const h = harness();
        h.commands.add(action, request, 'sent');
        if (action === 'delete') h.graph.gone.add('m1'); // the first run got that far
        await expect(h.execute()).resolves.toBe('done');
        expect(h.graph.calls).toHaveLength(1);
        expect(h.commands.log).toEqual(['done']);
      }
    });

    it('does not send again: ends failed OUTCOME_UNKNOWN and drops the attachments', async () => {
      for (const [action, request] of [
        ['send', sendRequest],
        ['reply', { messageId: 'm1', comment: 'ok' }],
        ['forward', { messageId: 'm1', toRecipients: [{ address: 'x@contoso.example' }] }],
      ] as const) {
        const h = harness();
        h.commands.add(action, request, 'sent');
        h.commands.attachments.set(CMD, [
          { name: 'a.txt', contentType: 'text/plain', content: Buffer.from('x') },
        ]);
        await expect(h.execute()).resolves.toBe('failed');
        expect(h.graph.calls).toEqual([]);
        expect(h.commands.get()).toMatchObject({ status: 'failed', reasonCode: 'OUTCOME_UNKNOWN' });
        expect(h.commands.get().reason).toMatch(/Check Sent Items/);
        expect(h.commands.attachments.has(CMD)).toBe(false);
        expect(h.events.map((e) => [e.status, e.reasonCode])).toEqual([['failed', 'OUTCOME_UNKNOWN']]);
      }
    });
  });

  describe('per-id outcomes', () => {
    it('a partial failure ends failed PARTIAL_FAILURE with counts; the mirror still converges', async () => {
      const h = harness();
      h.commands.add('move', { messageIds: ['m1', 'm2', 'm3', 'm4'], destinationFolderId: 'archive' });
      h.graph.gone.add('m2');
      h.graph.failOn('move', 'm3', graphErrors.accessDenied);
      await expect(h.execute()).resolves.toBe('failed');
      expect(h.commands.get()).toMatchObject({ status: 'failed', reasonCode: 'PARTIAL_FAILURE' });
      expect(h.commands.get().reason).toBe(
        '2 of 4 messages could not be moved: 1 no longer exists in Outlook, 1 refused by Outlook ' +
          '(ErrorAccessDenied). The other 2 were moved.',
      );
      const round = h.rounds[0].map((t) => `${t.changeType}:${t.messageId}`).sort();
      expect(round).toEqual(['created:m1', 'deleted:m2', 'updated:m1', 'updated:m4'].sort());
      expect(h.events.map((e) => e.status)).toEqual(['sent', 'failed']);
    });

    it('moving a message deleted in Outlook (404) ends failed MESSAGE_GONE, and the round drops it', async () => {
      const h = harness();
      h.commands.add('move', { messageIds: ['m1'], destinationFolderId: 'archive' });
      h.graph.gone.add('m1');
      await expect(h.execute()).resolves.toBe('failed');
      expect(h.commands.get()).toMatchObject({ status: 'failed', reasonCode: 'MESSAGE_GONE' });
      expect(h.commands.get().reason).toMatch(/no longer exists in Outlook/);
      expect(h.graph.calls).toEqual(['move:m1', 'folderId:archive']);
      expect(h.rounds).toEqual([[{ changeType: 'deleted', messageId: 'm1' }]]);
    });

    it('a move that gives the message a new id (IMAP) names the new id for the round to find the destination', async () => {
      const h = harness();
      h.commands.add('move', { messageIds: ['m1', 'm2'], destinationFolderId: 'archive' });
      h.graph.idsAfterMove.set('m1', 'archive-1').set('m2', 'archive-2');
      await expect(h.execute()).resolves.toBe('done');
      const round = h.rounds[0].map((t) => `${t.changeType}:${t.messageId}`).sort();
      // one look-up of a moved message, by its new id (both landed in the same folder)
      expect(round.slice(1)).toEqual(['updated:m1', 'updated:m2']);
      expect(['created:archive-1', 'created:archive-2']).toContain(round[0]);
    });

    it('a move to a folder gone from Outlook ends FOLDER_GONE after the first 404', async () => {
      const h = harness();
      const ids = Array.from({ length: 20 }, (_v, i) => `m${i}`);
      h.commands.add('move', { messageIds: ids, destinationFolderId: 'old-folder' });
      h.graph.missingFolders.add('old-folder');
      await expect(h.execute()).resolves.toBe('failed');
      expect(h.commands.get()).toMatchObject({ status: 'failed', reasonCode: 'FOLDER_GONE' });
      expect(h.graph.calls.filter((c) => c.startsWith('move:')).length).toBeLessThanOrEqual(2);
      expect(h.graph.calls.filter((c) => c.startsWith('folderId:'))).toEqual(['folderId:old-folder']);
      expect(h.rounds.flat()).toEqual([]); // nothing changed
    });

    it('a delete that moves messages to Trash under new ids (IMAP) names one of them for the round to find Trash', async () => {
      const h = harness();
      h.commands.add('delete', { messageIds: ['m1', 'm2', 'm3'] });
      h.graph.idsInTrash.set('m1', 'trash-1').set('m2', 'trash-2'); // m3 was in Trash: gone for good
      await expect(h.execute()).resolves.toBe('done');
      const round = h.rounds[0].map((t) => `${t.changeType}:${t.messageId}`).sort();
      expect(round.slice(0, 1)).toEqual([expect.stringMatching(/^created:trash-[12]$/)]);
      expect(round.slice(1)).toEqual(['deleted:m1', 'deleted:m2', 'deleted:m3']);
    });

    it('a delete that keeps the ids (Outlook: Deleted Items) adds nothing to the round', async () => {
      const h = harness();
      h.commands.add('delete', { messageIds: ['m1', 'm2'] });
      await expect(h.execute()).resolves.toBe('done');
      expect(h.rounds).toEqual([
        [
          { changeType: 'deleted', messageId: 'm1' },
          { changeType: 'deleted', messageId: 'm2' },
        ],
      ]);
    });

    it('a delete of a message already gone counts as deleted', async () => {
      const h = harness();
      h.commands.add('delete', { messageIds: ['m1', 'm2'] });
      h.graph.gone.add('m2');
      await expect(h.execute()).resolves.toBe('done');
      expect(h.rounds[0].map((t) => `${t.changeType}:${t.messageId}`).sort()).toEqual([
        'deleted:m1',
        'deleted:m2',
      ]);
    });
  });

  describe('Graph unavailable', () => {
    it('a transient error in a bulk command is thrown (retry path), the command stays sent and is redone', async () => {
      const h = harness();
      h.commands.add('markRead', { messageIds: ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'], isRead: true });
      h.graph.failOn('setRead', 'm2', graphErrors.throttled, true);
      await expect(h.execute()).rejects.toMatchObject({ status: 429 });
      expect(h.commands.get().status).toBe('sent');
      expect(h.rounds).toEqual([]);
      // it stopped at the error instead of working through the rest
      expect(h.graph.calls.length).toBeLessThan(6);
      await expect(h.execute()).resolves.toBe('done');
      expect(h.events.map((e) => e.status)).toEqual(['sent', 'done']);
    });

    it('on the last delivery the command ends failed GRAPH_UNAVAILABLE instead of staying sent', async () => {
      const h = harness();
      h.commands.add('delete', { messageIds: ['m1'] });
      h.graph.failOn('delete', 'm1', graphErrors.unavailable);
      await expect(h.execute(true)).resolves.toBe('failed');
      expect(h.commands.get()).toMatchObject({ status: 'failed', reasonCode: 'GRAPH_UNAVAILABLE' });
    });

    it('a throttled send was certainly not sent: back to queued, thrown, and sent on the retry', async () => {
      const h = harness();
      h.commands.add('send', sendRequest);
      h.commands.attachments.set(CMD, [
        { name: 'a.txt', contentType: 'text/plain', content: Buffer.from('hello') },
      ]);
      h.graph.failOn('sendMail', 'me', graphErrors.throttled, true);
      await expect(h.execute()).rejects.toBeInstanceOf(NotSentError);
      expect(h.commands.get().status).toBe('queued');
      expect(h.commands.attachments.has(CMD)).toBe(true);
      await expect(h.execute()).resolves.toBe('done');
      expect(h.graph.sent).toHaveLength(1);
      expect(h.events.map((e) => e.status)).toEqual(['sent', 'queued', 'sent', 'done']);
      expect(h.commands.attachments.has(CMD)).toBe(false);
    });

    it('a send whose request failed without an answer ends OUTCOME_UNKNOWN and is never sent again', async () => {
      for (const error of [graphErrors.network, graphErrors.gatewayTimeout]) {
        const h = harness();
        h.commands.add('send', sendRequest);
        h.graph.failOn('sendMail', 'me', error);
        await expect(h.execute()).resolves.toBe('failed');
        expect(h.commands.get()).toMatchObject({ status: 'failed', reasonCode: 'OUTCOME_UNKNOWN' });
        await expect(h.execute()).resolves.toBe('already_finished');
        expect(h.graph.calls).toEqual(['sendMail:me']);
      }
    });

    it('an error because the sign-in died ends REAUTH_REQUIRED (the vault marked the account)', async () => {
      const h = harness();
      h.commands.add('send', sendRequest);
      h.graph.failOn('sendMail', 'me', () => {
        h.account.status = 'reauth_required';
        return graphErrors.network();
      });
      await expect(h.execute()).resolves.toBe('failed');
      expect(h.commands.get()).toMatchObject({ status: 'failed', reasonCode: 'REAUTH_REQUIRED' });
    });
  });

  describe('outgoing mail', () => {
    it('sends a new mail with its attachments, drops them, and names Sent Items for the round', async () => {
      const h = harness();
      h.commands.add('send', sendRequest);
      const files = [
        { name: 'a.txt', contentType: 'text/plain', content: Buffer.from('hello') },
        { name: 'b.bin', contentType: 'application/octet-stream', content: Buffer.from([1, 2, 3]) },
      ];
      h.commands.attachments.set(CMD, files);
      await expect(h.execute()).resolves.toBe('done');
      expect(h.graph.sent).toEqual([
        {
          subject: 'Hello',
          body: { contentType: 'text', content: 'Hi Bob' },
          toRecipients: [{ address: 'bob@contoso.example' }],
          ccRecipients: [],
          bccRecipients: [],
          attachments: files,
        },
      ]);
      expect(h.commands.log).toEqual(['sent', 'dropAttachments', 'done']);
      expect(h.rounds).toEqual([[{ changeType: 'created', messageId: 'sent-1' }]]);
    });

    it('a reply with attachments drafts, attaches each file, sends the draft', async () => {
      const h = harness();
      h.commands.add('reply', { messageId: 'm1', replyAll: true, comment: 'see attached' });
      h.commands.attachments.set(CMD, [
        { name: 'a.txt', contentType: 'text/plain', content: Buffer.from('a') },
        { name: 'b.txt', contentType: 'text/plain', content: Buffer.from('b') },
      ]);
      await expect(h.execute()).resolves.toBe('done');
      expect(h.graph.calls).toEqual([
        'createReply:m1',
        'addAttachment:draft-1',
        'addAttachment:draft-1',
        'sendDraft:draft-1',
        'newestMessageIds:sentitems',
      ]);
      expect(h.rounds[0]).toEqual([
        { changeType: 'deleted', messageId: 'draft-1' },
        { changeType: 'created', messageId: 'draft-1' },
        { changeType: 'created', messageId: 'sent-1' },
      ]);
    });

    it('a forward without attachments is one request', async () => {
      const h = harness();
      h.commands.add('forward', { messageId: 'm1', toRecipients: [{ address: 'x@contoso.example' }] });
      await expect(h.execute()).resolves.toBe('done');
      expect(h.graph.calls).toEqual(['forward:m1', 'newestMessageIds:sentitems']);
    });

    it('replying to a message gone from Outlook ends MESSAGE_GONE', async () => {
      const h = harness();
      h.commands.add('reply', { messageId: 'm1' });
      h.graph.gone.add('m1');
      await expect(h.execute()).resolves.toBe('failed');
      expect(h.commands.get()).toMatchObject({ status: 'failed', reasonCode: 'MESSAGE_GONE' });
      expect(h.commands.get().reason).toMatch(/nothing was sent/);
    });

    it('a draft whose attachment Graph refuses is deleted, and the command fails with Graph’s code', async () => {
      const h = harness();
      h.commands.add('forward', { messageId: 'm1', toRecipients: [{ address: 'x@contoso.example' }] });
      h.commands.attachments.set(CMD, [
        { name: 'big.bin', contentType: 'application/pdf', content: Buffer.from('x') },
      ]);
      h.graph.failOn('addAttachment', 'draft-1', () => graphErrors.accessDenied());
      await expect(h.execute()).resolves.toBe('failed');
      expect(h.commands.get()).toMatchObject({ status: 'failed', reasonCode: 'ErrorAccessDenied' });
      expect(h.graph.calls).toEqual(['createForward:m1', 'addAttachment:draft-1', 'delete:draft-1']);
    });
  });

  it('an account waiting for re-authorization fails the command REAUTH_REQUIRED without calling Graph', async () => {
    const h = harness({ accountStatus: 'reauth_required' });
    h.commands.add('markRead', { messageIds: ['m1'], isRead: true });
    await expect(h.execute()).resolves.toBe('failed');
    expect(h.graph.calls).toEqual([]);
    expect(h.commands.get()).toMatchObject({ status: 'failed', reasonCode: 'REAUTH_REQUIRED' });
    expect(h.events.map((e) => [e.status, e.reasonCode])).toEqual([['failed', 'REAUTH_REQUIRED']]);
  });

  it('a stored request that no longer parses ends INVALID_COMMAND', async () => {
    const h = harness();
    h.commands.add('move', { messageIds: [] });
    await expect(h.execute()).resolves.toBe('failed');
    expect(h.commands.get()).toMatchObject({ status: 'failed', reasonCode: 'INVALID_COMMAND' });
  });
});
