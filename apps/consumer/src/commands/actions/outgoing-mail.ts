import { Injectable, Logger } from '@nestjs/common';
import {
  CREDENTIAL_FAILURE_CODES,
  CredentialsNotFoundError,
  ProviderRefusedError,
  ProviderUnavailableError,
  ReauthRequiredError,
  type MailboxActions,
  type OutgoingAttachment,
} from '@email-core/providers';
import { MESSAGE_GONE, type ActionOutcome, type MirrorTouch, type OutgoingRequest } from './action-result';

/**
 * Graph certainly did not send the mail (it was throttled, or a step before the sending request failed): the
 * command may run again.
 */
export class NotSentError extends Error {
  constructor(override readonly cause: unknown) {
    super(`the mail was not sent: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'NotSentError';
  }
}

/**
 * The sending request failed in a way that does not tell whether Graph sent the mail (network failure, timeout,
 * 500/502/504). Graph has no idempotency key for sendMail, reply, forward or send, so running it again could
 * send the mail twice: the command ends `failed` with `OUTCOME_UNKNOWN` instead.
 */
export class OutcomeUnknownError extends Error {
  constructor(override readonly cause: unknown) {
    super(
      'Outlook did not answer whether the mail was sent (' +
        (cause instanceof Error ? cause.message : String(cause)).slice(0, 200) +
        '); it was not sent again, to avoid sending it twice. Check Sent Items before sending it again.',
    );
    this.name = 'OutcomeUnknownError';
  }
}

/** A reply's or forward's text (its whole `body`, or a `comment` over the provider's quote) and Bcc. */
function responseOptions(request: Exclude<OutgoingRequest, { action: 'send' }>) {
  return {
    replyAll: request.action === 'reply' && request.replyAll,
    comment: request.comment,
    ...(request.body ? { body: request.body } : {}),
    ...(request.bccRecipients.length > 0 ? { bccRecipients: request.bccRecipients } : {}),
  };
}

/** Answers Graph gives before doing anything: throttled (429) or unavailable (503) requests are not executed. */
const REFUSED_BEFORE_WORK = new Set([429, 503]);
/**
 * Failures of the credential, which the adapter reports as a status-0 unavailable error with one of these codes
 * (or as `ReauthRequiredError` / `CredentialsNotFoundError`): no request left the process.
 */
const TOKEN_FAILURES = new Set<string>(CREDENTIAL_FAILURE_CODES);

/** Whether a failed sending request certainly sent nothing. */
export function certainlyNotSent(err: unknown): boolean {
  if (err instanceof ReauthRequiredError || err instanceof CredentialsNotFoundError) return true;
  if (!(err instanceof ProviderUnavailableError)) return false;
  return REFUSED_BEFORE_WORK.has(err.status) || (err.status === 0 && TOKEN_FAILURES.has(err.code));
}

/**
 * Send, reply (all) and forward. Without attachments one request sends (`sendMail`, `reply`, `replyAll`,
 * `forward`); a reply or forward with attachments drafts it (`createReply`, `createReplyAll`, `createForward`),
 * attaches each file, then sends the draft. Graph refusing (4xx) fails the command with Graph's code
 * (`MESSAGE_GONE` when the message replied to is gone); a failure that certainly sent nothing is `NotSentError`;
 * a failure of the sending request itself that might have sent is `OutcomeUnknownError`.
 */
@Injectable()
export class OutgoingMail {
  private readonly logger = new Logger('OutgoingMail');

  async run(
    graph: MailboxActions,
    request: OutgoingRequest,
    attachments: OutgoingAttachment[],
  ): Promise<ActionOutcome> {
    let draftId: string | undefined;
    try {
      // a whole body replaces the provider's quote, which only a draft allows at Graph (docs/mail-actions.md#compose)
      if (request.action !== 'send' && (attachments.length > 0 || request.body)) {
        draftId = await this.draft(graph, request, attachments);
      }
    } catch (err) {
      // nothing was sent; draft() already removed a half-built draft
      return this.refused(request, err, () => new NotSentError(err));
    }
    try {
      if (draftId !== undefined) await graph.sendDraft(draftId);
      else await this.sendAtOnce(graph, request, attachments);
    } catch (err) {
      if (draftId !== undefined && err instanceof ProviderRefusedError) await this.discard(graph, draftId);
      return this.refused(request, err, () =>
        certainlyNotSent(err) ? new NotSentError(err) : new OutcomeUnknownError(err),
      );
    }
    return { total: 1, failures: [], touched: await this.sentItems(graph, draftId) };
  }

  /**
   * Sends a draft the user saved (`sendDraft`), as it is at the provider. Graph's refusal fails it (404: the draft
   * is gone; nothing sent); otherwise as `run`: certainly not sent is `NotSentError`, else `OutcomeUnknownError`.
   */
  async sendSavedDraft(graph: MailboxActions, draftId: string): Promise<ActionOutcome> {
    try {
      await graph.sendDraft(draftId);
    } catch (err) {
      if (!(err instanceof ProviderRefusedError)) {
        throw certainlyNotSent(err) ? new NotSentError(err) : new OutcomeUnknownError(err);
      }
      const gone = err.status === 404;
      return {
        total: 1,
        failures: [
          gone
            ? { id: draftId, code: MESSAGE_GONE, message: 'The draft no longer exists.' }
            : { id: draftId, code: err.code || `HTTP_${err.status}`, message: err.message },
        ],
        touched: gone ? [{ changeType: 'deleted', messageId: draftId }] : [],
      };
    }
    return { total: 1, failures: [], touched: await this.sentItems(graph, draftId) };
  }

  private async draft(
    graph: MailboxActions,
    request: Exclude<OutgoingRequest, { action: 'send' }>,
    attachments: OutgoingAttachment[],
  ): Promise<string> {
    const draftId =
      request.action === 'reply'
        ? await graph.createReply(request.messageId, responseOptions(request))
        : await graph.createForward(request.messageId, {
            ...responseOptions(request),
            toRecipients: request.toRecipients,
          });
    try {
      for (const a of attachments) await graph.addAttachment(draftId, a);
    } catch (err) {
      await this.discard(graph, draftId);
      throw err;
    }
    return draftId;
  }

  private async sendAtOnce(
    graph: MailboxActions,
    request: OutgoingRequest,
    attachments: OutgoingAttachment[],
  ): Promise<void> {
    switch (request.action) {
      case 'send':
        return graph.sendMail({
          subject: request.subject,
          body: request.body,
          toRecipients: request.toRecipients,
          ccRecipients: request.ccRecipients,
          bccRecipients: request.bccRecipients,
          attachments,
        });
      case 'reply':
        return graph.reply(request.messageId, responseOptions(request));
      case 'forward':
        return graph.forward(request.messageId, {
          ...responseOptions(request),
          toRecipients: request.toRecipients,
        });
    }
  }

  /** Graph's 4xx becomes the command's failure; anything else is thrown as `otherwise()` says. */
  private refused(request: OutgoingRequest, err: unknown, otherwise: () => Error): ActionOutcome {
    if (!(err instanceof ProviderRefusedError)) throw otherwise();
    const target = request.action === 'send' ? 'mail' : request.messageId;
    const gone = err.status === 404 && request.action !== 'send';
    return {
      total: 1,
      failures: [
        gone
          ? { id: target, code: MESSAGE_GONE, message: 'The message no longer exists in Outlook.' }
          : { id: target, code: err.code || `HTTP_${err.status}`, message: err.message },
      ],
      // the message replied to is gone: its folder's delta drops the local copy
      touched: gone ? [{ changeType: 'deleted', messageId: target }] : [],
    };
  }

  /**
   * What the mirror round re-reads after a send: Sent Items, named by its newest message (the one just sent,
   * unless Graph has not filed it yet; the round then still runs that folder's delta, and the subscription brings
   * the rest), and the draft, if one was used, so Drafts drops it. Never throws: the mail has gone.
   */
  private async sentItems(graph: MailboxActions, draftId: string | undefined): Promise<MirrorTouch[]> {
    const touched: MirrorTouch[] = [];
    if (draftId !== undefined) {
      touched.push(
        { changeType: 'deleted', messageId: draftId },
        { changeType: 'created', messageId: draftId },
      );
    }
    try {
      const [newest] = await graph.newestMessageIds('sentitems', 1);
      if (newest !== undefined && newest !== draftId)
        touched.push({ changeType: 'created', messageId: newest });
    } catch (err) {
      this.logger.warn(`could not look up Sent Items after sending: ${(err as Error).message}`);
    }
    return touched;
  }

  /** Best effort: a draft left behind by a failed send is deleted (it would otherwise sit in Drafts). */
  private async discard(graph: MailboxActions, draftId: string): Promise<void> {
    await graph.delete(draftId).catch((err: unknown) => {
      this.logger.warn(`could not delete the draft of a failed send: ${(err as Error).message}`);
    });
  }
}
