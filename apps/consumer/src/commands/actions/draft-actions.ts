import { Injectable } from '@nestjs/common';
import { MailCommandsRepository, type StoredMailCommand } from '@email-core/database';
import { ProviderRefusedError, type MailboxActions } from '@email-core/providers';
import { MESSAGE_GONE, type ActionOutcome, type DraftRequest, type MirrorTouch } from './action-result';
import { OutgoingMail } from './outgoing-mail';

/** A save or send of a draft already sent or discarded. */
export const DRAFT_CLOSED = 'DRAFT_CLOSED';
/** A send of a draft that was never saved (no draft for its key, no draft id). */
export const DRAFT_NOT_FOUND = 'DRAFT_NOT_FOUND';

/** What a draft command did: the action's outcome and, for a save, the draft's id now. */
export interface DraftOutcome extends ActionOutcome {
  draftId?: string;
}

const one = (code: string, message: string, id = 'draft'): ActionOutcome => ({
  total: 1,
  failures: [{ id, code, message }],
  touched: [],
});

/**
 * Save, discard and send a draft (docs/mail-actions.md#drafts). The caller runs them one at a time per draft (the
 * draft's lock), and a draft's commands share its account's partition, so they run in the order they were
 * submitted. The draft's provider id now is the last done save's (`draftKeyState`), else the request's `draftId`.
 *
 * - save: replaces that draft (or creates it); a save older than the newest one done (a retry arriving late) does
 *   nothing and answers the newest one's id; after a send or discard, `DRAFT_CLOSED`. A reply or forward draft's
 *   origin is kept with it (`draft_origins`, following an IMAP draft's new id), so a draft reopened from Drafts
 *   is shown as the reply it is and a later save without an origin still creates it as one.
 * - discard: removes it for good; no draft, or one already gone, is done.
 * - send: sends it as saved (OutgoingMail's rules: at most once; Graph's refusal fails it, nothing sent).
 */
@Injectable()
export class DraftActions {
  constructor(
    private readonly commands: MailCommandsRepository,
    private readonly outgoing: OutgoingMail,
  ) {}

  async run(
    mailbox: MailboxActions,
    command: StoredMailCommand,
    request: DraftRequest,
  ): Promise<DraftOutcome> {
    const state = await this.commands.draftKeyState(command.accountId, request.draftKey);
    const current = state.draftId ?? request.draftId;
    switch (request.action) {
      case 'saveDraft': {
        if (state.closed) return one(DRAFT_CLOSED, 'This draft was already sent or discarded.');
        if (state.newestSaveAt !== null && state.newestSaveAt > new Date(command.createdAt)) {
          // a newer save is done already: this older one must not overwrite it
          return { total: 1, failures: [], touched: [], ...(current ? { draftId: current } : {}) };
        }
        try {
          // a reply or forward stays one: the request's origin, else the one kept with the draft (a draft reopened
          // from Drafts), used by the provider when it must create the draft (anew, if it was deleted meanwhile)
          const origin =
            request.origin ??
            (current !== undefined ? await this.commands.draftOrigin(command.accountId, current) : null);
          const id = await mailbox.saveDraft(
            {
              subject: request.subject,
              body: request.body,
              toRecipients: request.toRecipients,
              ccRecipients: request.ccRecipients,
              bccRecipients: request.bccRecipients,
            },
            {
              ...(current !== undefined ? { replaceId: current } : {}),
              ...(origin ? { origin } : {}),
            },
          );
          await this.commands.keepDraftOrigin(command.accountId, id, origin, current);
          const touched: MirrorTouch[] = [{ changeType: 'created', messageId: id }];
          if (current !== undefined && current !== id)
            touched.push({ changeType: 'deleted', messageId: current });
          else if (current === id) touched.push({ changeType: 'updated', messageId: id });
          return { total: 1, failures: [], touched, draftId: id };
        } catch (err) {
          return refused(err, request.origin?.messageId ?? 'draft');
        }
      }
      case 'discardDraft': {
        if (current === undefined) return { total: 1, failures: [], touched: [] };
        try {
          await mailbox.discardDraft(current);
        } catch (err) {
          return refused(err, current);
        }
        await this.commands.forgetDraftOrigin(command.accountId, current);
        return { total: 1, failures: [], touched: [{ changeType: 'deleted', messageId: current }] };
      }
      case 'sendDraft': {
        if (state.closed) return one(DRAFT_CLOSED, 'This draft was already sent or discarded.');
        if (current === undefined) return one(DRAFT_NOT_FOUND, 'There is no saved draft to send.');
        const sent = await this.outgoing.sendSavedDraft(mailbox, current);
        if (sent.failures.length === 0) await this.commands.forgetDraftOrigin(command.accountId, current);
        return sent;
      }
    }
  }
}

/** The provider's refusal as the command's failure (404: the message answered, or the draft, is gone). */
function refused(err: unknown, id: string): ActionOutcome {
  if (!(err instanceof ProviderRefusedError)) throw err;
  return err.status === 404
    ? one(MESSAGE_GONE, 'The message no longer exists.', id)
    : one(err.code || `HTTP_${err.status}`, err.message, id);
}
