import type { MailboxPokeChange, MailCommandRequest } from '@email-core/contracts';

/** The command's target no longer exists in Outlook (Graph answered 404 for it). */
export const MESSAGE_GONE = 'MESSAGE_GONE';
/** A move's destination folder no longer exists in Outlook. */
export const FOLDER_GONE = 'FOLDER_GONE';

export type BulkRequest = Extract<MailCommandRequest, { action: 'markRead' | 'flag' | 'move' | 'delete' }>;
export type OutgoingRequest = Extract<MailCommandRequest, { action: 'send' | 'reply' | 'forward' }>;
export type DraftRequest = Extract<
  MailCommandRequest,
  { action: 'saveDraft' | 'discardDraft' | 'sendDraft' }
>;

/** Actions that send mail: at most once (a command found `sent` again is not redone). */
export const isOutgoing = (action: MailCommandRequest['action']): boolean =>
  action === 'send' || action === 'reply' || action === 'forward' || action === 'sendDraft';

/** One message the action could not apply: `MESSAGE_GONE`, `FOLDER_GONE` or Graph's own error code. */
export interface IdFailure {
  id: string;
  code: string;
  message: string;
}

/** A message the mirror round must look at: a change of the poke the action publishes. */
export interface MirrorTouch {
  changeType: MailboxPokeChange['kind'];
  messageId: string;
}

/** What an action did at Graph: how many targets, which failed, and what the mirror must re-read. */
export interface ActionOutcome {
  total: number;
  failures: IdFailure[];
  touched: MirrorTouch[];
}

export type Settlement = { status: 'done' } | { status: 'failed'; code: string; reason: string };

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "moved", "marked read", ... as the reason's verb. */
function verb(request: MailCommandRequest): string {
  switch (request.action) {
    case 'markRead':
      return request.isRead ? 'marked read' : 'marked unread';
    case 'flag':
      return request.flagStatus === 'flagged'
        ? 'flagged'
        : request.flagStatus === 'complete'
          ? 'marked complete'
          : 'unflagged';
    case 'move':
      return 'moved';
    case 'delete':
      return 'deleted';
    case 'send':
      return 'sent';
    case 'reply':
      return 'replied to';
    case 'forward':
      return 'forwarded';
    case 'saveDraft':
      return 'saved as a draft';
    case 'discardDraft':
      return 'discarded';
    case 'sendDraft':
      return 'sent';
  }
}

function describeFailures(failures: IdFailure[]): string {
  const gone = failures.filter((f) => f.code === MESSAGE_GONE).length;
  const folder = failures.filter((f) => f.code === FOLDER_GONE).length;
  const refused = new Map<string, number>();
  for (const f of failures) {
    if (f.code !== MESSAGE_GONE && f.code !== FOLDER_GONE)
      refused.set(f.code, (refused.get(f.code) ?? 0) + 1);
  }
  const parts: string[] = [];
  if (gone > 0) parts.push(`${gone} no longer ${gone === 1 ? 'exists' : 'exist'} in Outlook`);
  if (folder > 0) parts.push(`${folder} because the destination folder no longer exists in Outlook`);
  for (const [code, n] of refused) parts.push(`${n} refused by Outlook (${code})`);
  return parts.join(', ');
}

/**
 * The command's final status from what Graph answered: `done` when every target succeeded; otherwise `failed`
 * with `PARTIAL_FAILURE` when some succeeded, `MESSAGE_GONE` / `FOLDER_GONE` when that is why all of them failed,
 * and else Graph's own error code. The reason counts, so the user knows what happened to each part.
 */
export function settle(request: MailCommandRequest, outcome: ActionOutcome): Settlement {
  const failures = outcome.failures;
  if (failures.length === 0) return { status: 'done' };
  const done = verb(request);
  if (failures[0].code.startsWith('DRAFT_')) {
    return { status: 'failed', code: failures[0].code, reason: failures[0].message };
  }
  if (isOutgoing(request.action)) {
    const f = failures[0];
    if (f.code === MESSAGE_GONE) {
      return {
        status: 'failed',
        code: MESSAGE_GONE,
        reason: `The message to be ${done} no longer exists in Outlook (deleted or moved elsewhere); nothing was sent.`,
      };
    }
    return {
      status: 'failed',
      code: f.code.slice(0, 64),
      reason: `Outlook refused the mail, so nothing was sent: ${f.message} (${f.code})`,
    };
  }
  const succeeded = outcome.total - failures.length;
  if (succeeded > 0) {
    return {
      status: 'failed',
      code: 'PARTIAL_FAILURE',
      reason:
        `${failures.length} of ${plural(outcome.total, 'message')} could not be ${done}: ` +
        `${describeFailures(failures)}. The other ${succeeded} ${succeeded === 1 ? 'was' : 'were'} ${done}.`,
    };
  }
  if (failures.every((f) => f.code === FOLDER_GONE)) {
    return {
      status: 'failed',
      code: FOLDER_GONE,
      reason: `The destination folder no longer exists in Outlook; no message was ${done}.`,
    };
  }
  if (failures.every((f) => f.code === MESSAGE_GONE)) {
    return {
      status: 'failed',
      code: MESSAGE_GONE,
      reason:
        outcome.total === 1
          ? `The message no longer exists in Outlook (deleted or moved elsewhere), so it could not be ${done}; ` +
            'the local copy now follows Outlook.'
          : `None of the ${outcome.total} messages exist in Outlook any more (deleted or moved elsewhere), so ` +
            `none could be ${done}; the local copies now follow Outlook.`,
    };
  }
  const refused = failures.find((f) => f.code !== MESSAGE_GONE && f.code !== FOLDER_GONE) ?? failures[0];
  return {
    status: 'failed',
    code: refused.code.slice(0, 64),
    reason:
      outcome.total === 1
        ? `Outlook refused: ${refused.message} (${refused.code})`
        : `No message could be ${done}: ${describeFailures(failures)}.`,
  };
}
