import type { DraftOrigin, MailCommandsRepository, StoredMailCommand } from '@email-core/database';
import { FakeMailGraph, graphErrors } from '../testing/fake-mail-graph';
import type { DraftRequest } from './action-result';
import { DRAFT_CLOSED, DRAFT_NOT_FOUND, DraftActions } from './draft-actions';
import { NotSentError, OutcomeUnknownError, OutgoingMail } from './outgoing-mail';

const ACCOUNT = '6f1c1a52-0f7e-4f39-9d55-3c1cbb2b8a10';
const KEY = '0b8a4c1e-5c64-4a36-9d1f-0b0d6a1e2f3a';
const AT = '2026-12-05T20:00:00.000Z';

type DraftKeyState = Awaited<ReturnType<MailCommandsRepository['draftKeyState']>>;

const command = (createdAt = AT) => ({ accountId: ACCOUNT, createdAt }) as StoredMailCommand;

const save = (extra: Partial<Extract<DraftRequest, { action: 'saveDraft' }>> = {}): DraftRequest => ({
  action: 'saveDraft',
  accountId: ACCOUNT,
  draftKey: KEY,
  subject: 'Plan',
  body: { contentType: 'html', content: '<p>Plan</p>' },
  toRecipients: [{ address: 'bob@fabrikam.example' }],
  ccRecipients: [],
  bccRecipients: [],
  ...extra,
});

function setup(state: Partial<DraftKeyState> = {}, kept: Array<[string, DraftOrigin]> = []) {
  const graph = new FakeMailGraph();
  /** draft_origins, by draft id */
  const origins = new Map<string, DraftOrigin>(kept);
  const repo = {
    draftKeyState: () => Promise.resolve({ draftId: null, newestSaveAt: null, closed: false, ...state }),
    draftOrigin: (_account: string, id: string) => Promise.resolve(origins.get(id) ?? null),
    keepDraftOrigin: (_account: string, id: string, origin: DraftOrigin | null, replaced?: string) => {
      if (replaced !== undefined && replaced !== id) origins.delete(replaced);
      if (origin) origins.set(id, origin);
      return Promise.resolve();
    },
    forgetDraftOrigin: (_account: string, id: string) => Promise.resolve(void origins.delete(id)),
  } as unknown as MailCommandsRepository;
  return { graph, origins, drafts: new DraftActions(repo, new OutgoingMail()) };
}

describe('DraftActions', () => {
  it("a first save creates the draft and answers its id; the next replaces the key's draft", async () => {
    const first = setup();
    expect(await first.drafts.run(first.graph, command(), save())).toEqual({
      total: 1,
      failures: [],
      touched: [{ changeType: 'created', messageId: 'draft-1' }],
      draftId: 'draft-1',
    });
    expect(first.graph.calls).toEqual(['saveDraft:new']);

    const next = setup({ draftId: 'draft-7', newestSaveAt: new Date('2026-12-05T19:59:00Z') });
    const outcome = await next.drafts.run(next.graph, command(), save({ draftId: 'reopened-1' }));
    // the key's own draft wins over the request's draftId
    expect(next.graph.calls).toEqual(['saveDraft:draft-7']);
    expect(outcome.draftId).toBe('draft-7');
  });

  it("a reply draft's origin is kept with it: a reopened draft's save without one still creates it as a reply", async () => {
    const origin: DraftOrigin = { messageId: 'original-1', kind: 'replyAll' };
    const first = setup();
    const created = await first.drafts.run(first.graph, command(), save({ origin }));
    expect(created.draftId).toBe('draft-1');
    expect([...first.origins]).toEqual([['draft-1', origin]]);

    // reopened from Drafts (another key, the draft's id, no origin): the provider is told the kept origin, and the
    // draft's new id (IMAP: every save) takes it over
    const reopened = setup({}, [['imap-draft-1', origin]]);
    const saveDraft = jest.spyOn(reopened.graph, 'saveDraft').mockResolvedValue('imap-draft-2');
    const outcome = await reopened.drafts.run(reopened.graph, command(), save({ draftId: 'imap-draft-1' }));
    expect(saveDraft).toHaveBeenCalledWith(expect.anything(), { replaceId: 'imap-draft-1', origin });
    expect(outcome.draftId).toBe('imap-draft-2');
    expect([...reopened.origins]).toEqual([['imap-draft-2', origin]]);

    // sent or discarded: forgotten
    const sent = setup({ draftId: 'imap-draft-2' }, [['imap-draft-2', origin]]);
    const request: DraftRequest = { action: 'sendDraft', accountId: ACCOUNT, draftKey: KEY };
    expect((await sent.drafts.run(sent.graph, command(), request)).failures).toEqual([]);
    expect(sent.origins.size).toBe(0);
    const discarded = setup({ draftId: 'imap-draft-2' }, [['imap-draft-2', origin]]);
    await discarded.drafts.run(discarded.graph, command(), { ...request, action: 'discardDraft' });
    expect(discarded.origins.size).toBe(0);
  });

  it('a save older than the newest done save does nothing and answers the newer draft', async () => {
    const { graph, drafts } = setup({ draftId: 'draft-9', newestSaveAt: new Date('2026-12-05T20:00:05Z') });
    expect(await drafts.run(graph, command(AT), save())).toEqual({
      total: 1,
      failures: [],
      touched: [],
      draftId: 'draft-9',
    });
    expect(graph.calls).toEqual([]);
  });

  it('after a send or discard, a save fails DRAFT_CLOSED and nothing is created', async () => {
    const { graph, drafts } = setup({ draftId: 'draft-3', closed: true });
    const outcome = await drafts.run(graph, command(), save());
    expect(outcome.failures.map((f) => f.code)).toEqual([DRAFT_CLOSED]);
    expect(graph.calls).toEqual([]);
  });

  it('discard removes the draft; with no draft there is nothing to do', async () => {
    const some = setup({ draftId: 'draft-4' });
    expect(await some.drafts.run(some.graph, command(), { ...save(), action: 'discardDraft' })).toEqual({
      total: 1,
      failures: [],
      touched: [{ changeType: 'deleted', messageId: 'draft-4' }],
    });
    expect(some.graph.calls).toEqual(['discardDraft:draft-4']);
    const none = setup();
    const request: DraftRequest = { action: 'discardDraft', accountId: ACCOUNT, draftKey: KEY };
    expect((await none.drafts.run(none.graph, command(), request)).failures).toEqual([]);
    expect(none.graph.calls).toEqual([]);
  });

  it('send sends the draft as saved; without one it fails DRAFT_NOT_FOUND', async () => {
    const { graph, drafts } = setup({ draftId: 'draft-5' });
    const request: DraftRequest = { action: 'sendDraft', accountId: ACCOUNT, draftKey: KEY };
    const outcome = await drafts.run(graph, command(), request);
    expect(outcome.failures).toEqual([]);
    expect(graph.calls).toEqual(['sendDraft:draft-5', 'newestMessageIds:sentitems']);
    expect(outcome.touched).toEqual([
      { changeType: 'deleted', messageId: 'draft-5' },
      { changeType: 'created', messageId: 'draft-5' },
      { changeType: 'created', messageId: 'sent-1' },
    ]);
    const none = setup();
    expect((await none.drafts.run(none.graph, command(), request)).failures.map((f) => f.code)).toEqual([
      DRAFT_NOT_FOUND,
    ]);
  });

  it("send keeps a send's rules: throttled is not sent (retry), unanswered is OUTCOME_UNKNOWN", async () => {
    const request: DraftRequest = { action: 'sendDraft', accountId: ACCOUNT, draftKey: KEY };
    const throttled = setup({ draftId: 'draft-6' });
    throttled.graph.failOn('sendDraft', 'draft-6', graphErrors.throttled);
    await expect(throttled.drafts.run(throttled.graph, command(), request)).rejects.toBeInstanceOf(
      NotSentError,
    );
    const unanswered = setup({ draftId: 'draft-6' });
    unanswered.graph.failOn('sendDraft', 'draft-6', graphErrors.network);
    await expect(unanswered.drafts.run(unanswered.graph, command(), request)).rejects.toBeInstanceOf(
      OutcomeUnknownError,
    );
  });
});
