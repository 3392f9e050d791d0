import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  mailCommandRequestSchema,
  type MailCommandRequest,
  type MailCommandStatus,
} from '@email-core/contracts';
import {
  MailAccountSyncRepository,
  MailCommandsRepository,
  type StoredMailCommand,
} from '@email-core/database';
import { describeError } from '@email-core/kafka';
import { ProviderRegistry, type MailboxActions } from '@email-core/providers';
import { providerOf } from '../../mirror/provider-of';
import { isOutgoing, settle, type Settlement } from '../actions/action-result';
import { DraftActions, type DraftOutcome } from '../actions/draft-actions';
import { MessageActions } from '../actions/message-actions';
import { NotSentError, OutcomeUnknownError, OutgoingMail } from '../actions/outgoing-mail';
import { CommandLock } from '../command-lock';
import { CommandStatusEvents } from '../command-status';
import { MirrorRound } from '../mirror-round';
import { ExecuteMailCommandCommand, type ExecuteMailCommandResult } from './execute-mail-command.command';

/** The stored request (attachments without content) as the contract's request; null if it no longer parses. */
export function storedRequest(command: StoredMailCommand): MailCommandRequest | null {
  const { attachments: _metadata, ...rest } = command.request;
  const parsed = mailCommandRequestSchema.safeParse({
    ...rest,
    accountId: command.accountId,
    action: command.action,
  });
  return parsed.success ? parsed.data : null;
}

const REAUTH_REASON =
  'The Outlook account needs to be linked again (Microsoft no longer accepts its sign-in); nothing was changed.';

/**
 * Executes one mail command at most once: `queued` → `sent` (claimed with a conditional update, so a redelivered
 * message finds it claimed and does nothing) → Graph → the mirror round → `done` or `failed`, announcing each
 * status as `command.status`. A command found in `sent` again means a worker stopped in the middle: read, flag,
 * move and delete are safe to redo, a send is not (Graph has no idempotency key), so it ends `OUTCOME_UNKNOWN`.
 */
@CommandHandler(ExecuteMailCommandCommand)
export class ExecuteMailCommandHandler implements ICommandHandler<
  ExecuteMailCommandCommand,
  ExecuteMailCommandResult
> {
  private readonly logger = new Logger('ExecuteMailCommand');

  constructor(
    private readonly commands: MailCommandsRepository,
    private readonly accounts: MailAccountSyncRepository,
    private readonly messageActions: MessageActions,
    private readonly outgoingMail: OutgoingMail,
    private readonly drafts: DraftActions,
    private readonly mirror: MirrorRound,
    private readonly status: CommandStatusEvents,
    private readonly lock: CommandLock,
    private readonly providers: ProviderRegistry,
  ) {}

  async execute({
    commandId,
    finalAttempt,
    signal,
  }: ExecuteMailCommandCommand): Promise<ExecuteMailCommandResult> {
    const found = await this.commands.load(commandId);
    if (!found) {
      this.logger.debug(`command ${commandId} not found (its account was unlinked): nothing to do`);
      return 'missing';
    }
    return this.lock.run(found.accountId, commandId, signal, async (locked) => {
      const command = await this.commands.load(commandId); // as it is now that the command is ours
      return command ? this.run(command, finalAttempt, locked) : 'missing';
    });
  }

  private async run(
    command: StoredMailCommand,
    finalAttempt: boolean,
    signal: AbortSignal,
  ): Promise<ExecuteMailCommandResult> {
    if (command.status === 'done' || command.status === 'failed') {
      // a redelivery (or a retry after the status event failed to go out): nothing runs, the outcome is re-told
      await this.status.announce(command.userId, command);
      return 'already_finished';
    }
    const account = await this.accounts.findForSync(command.accountId);
    if (!account) return 'missing';
    if (account.status === 'reauth_required') return this.fail(command, 'REAUTH_REQUIRED', REAUTH_REASON);
    const request = storedRequest(command);
    if (!request) {
      return this.fail(command, 'INVALID_COMMAND', 'The stored command is not a valid mail command.');
    }
    if (command.status === 'queued') {
      const claimed = await this.commands.transition(command.id, ['queued'], 'sent');
      if (!claimed) return 'not_claimed';
      await this.status.announce(command.userId, claimed);
    } else if (isOutgoing(request.action)) {
      return this.fail(
        command,
        'OUTCOME_UNKNOWN',
        'The worker stopped while this mail was being sent, and Outlook offers no way to tell whether it went ' +
          'out; it was not sent again, to avoid sending it twice. Check Sent Items before sending it again.',
      );
    } else {
      this.logger.log(
        `command ${command.id} (${request.action}) was interrupted; redoing it (safe to repeat)`,
      );
    }

    const graph = this.providers.mailbox(providerOf(account));
    let outcome: DraftOutcome;
    try {
      outcome = await this.act(graph, command, request, signal);
    } catch (err) {
      return this.afterError(command, err, finalAttempt, signal);
    }
    if (isOutgoing(command.action)) await this.commands.dropAttachments(command.id);
    await this.mirror.converge(command.accountId, outcome.touched, signal);
    return this.finish(command, settle(request, outcome), outcome.draftId);
  }

  private async act(
    graph: MailboxActions,
    command: StoredMailCommand,
    request: MailCommandRequest,
    signal: AbortSignal,
  ): Promise<DraftOutcome> {
    switch (request.action) {
      case 'markRead':
      case 'flag':
      case 'move':
      case 'delete':
        return this.messageActions.run(graph, request, signal);
      case 'send':
      case 'reply':
      case 'forward':
        return this.outgoingMail.run(graph, request, await this.commands.loadAttachments(command.id));
      case 'saveDraft':
      case 'discardDraft':
      case 'sendDraft':
        return this.lock.draft(command.accountId, request.draftKey, command.id, signal, () =>
          this.drafts.run(graph, command, request),
        );
    }
  }

  /**
   * Graph did not complete the command. A dead sign-in ends it `REAUTH_REQUIRED`; a mail certainly not sent goes
   * back to `queued` for the retry; a send with an unknown outcome ends `OUTCOME_UNKNOWN`; anything else (Graph
   * throttled or unavailable) is thrown so the message takes the retry path, the command staying `sent` (redone
   * on redelivery), unless this was the last delivery: then it ends `GRAPH_UNAVAILABLE`.
   */
  private async afterError(
    command: StoredMailCommand,
    err: unknown,
    finalAttempt: boolean,
    signal: AbortSignal,
  ): Promise<ExecuteMailCommandResult> {
    // the token vault marks the account before its error reaches us; checking the row also covers a command
    // queued before the account needed re-authorization
    const account = await this.accounts.findForSync(command.accountId);
    if (account?.status === 'reauth_required') return this.fail(command, 'REAUTH_REQUIRED', REAUTH_REASON);
    const outgoing = isOutgoing(command.action);
    if (err instanceof OutcomeUnknownError) return this.fail(command, 'OUTCOME_UNKNOWN', err.message);
    if (err instanceof NotSentError && !finalAttempt) {
      const back = await this.commands.transition(command.id, ['sent'], 'queued');
      if (back) await this.status.announce(command.userId, back);
      this.logger.warn(
        `command ${command.id} (${command.action}) not sent, to be retried: ${describeError(err)}`,
      );
      throw err;
    }
    if (signal.aborted || !finalAttempt) throw err;
    return this.fail(
      command,
      'GRAPH_UNAVAILABLE',
      `Outlook stayed unavailable through every retry (${describeError(err instanceof NotSentError ? err.cause : err).slice(0, 200)}); ` +
        (outgoing
          ? 'the mail was not sent.'
          : 'some of the messages may have changed, and the mailbox shows what Outlook has.'),
    );
  }

  private async finish(
    command: StoredMailCommand,
    settlement: Settlement,
    draftId?: string,
  ): Promise<ExecuteMailCommandResult> {
    const view =
      settlement.status === 'done'
        ? await this.commands.transition(
            command.id,
            ['sent'],
            'done',
            undefined,
            draftId !== undefined ? { draftId } : undefined,
          )
        : await this.commands.transition(command.id, ['sent'], 'failed', {
            code: settlement.code,
            message: settlement.reason,
          });
    if (!view) return 'not_claimed';
    // under the correlation id of the API request that queued it (the outbox carried it in the message's header)
    this.logger.log(`command ${command.id} (${command.action}) ${settlement.status}`);
    await this.status.announce(command.userId, view);
    return settlement.status;
  }

  private async fail(
    command: StoredMailCommand,
    code: string,
    reason: string,
    from: MailCommandStatus[] = ['queued', 'sent'],
  ): Promise<ExecuteMailCommandResult> {
    const view = await this.commands.transition(command.id, from, 'failed', { code, message: reason });
    if (isOutgoing(command.action)) await this.commands.dropAttachments(command.id);
    if (!view) return 'not_claimed';
    this.logger.warn(`command ${command.id} (${command.action}) failed: ${code}`);
    await this.status.announce(command.userId, view);
    return 'failed';
  }
}
