import { createHash, randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import {
  MAX_BATCH_MESSAGES,
  MAX_BULK_IDS,
  type CommandBatchRequest,
  type MailCommandRequest,
} from '@email-core/contracts';
import {
  MailAccountsRepository,
  MailCommandBatchesRepository,
  type CommandBatchView,
  type MessageListFilter,
  type NewCommandBatch,
} from '@email-core/database';
import { CommandBatchErrors } from '../../command-batch-errors';
import { CommandChecksRepository } from '../../command-checks.repository';
import { CommandErrors } from '../../command-errors';
import { canonicalJson, requestHash, storedRequest } from '../../command-request';
import { MailCommandOutbox } from '../../mail-command-outbox';
import { SubmitCommandBatch, type SubmitCommandBatchResult } from './submit-command-batch.command';

/** SHA-256 of the batch request in canonical JSON, without its id: what a retry with the same id must match. */
export function batchRequestHash(request: CommandBatchRequest): string {
  const { id: _id, ...rest } = request;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/** The action's own fields (read state, flag, destination), as each of the batch's commands carries them. */
function actionFields(request: CommandBatchRequest, destination: string | null) {
  switch (request.action) {
    case 'markRead':
      return { action: request.action, isRead: request.isRead };
    case 'flag':
      return { action: request.action, flagStatus: request.flagStatus };
    case 'move':
      return { action: request.action, destinationFolderId: destination ?? request.destinationFolderId };
    case 'delete':
      return { action: request.action };
  }
}

/**
 * A bulk action on any number of messages: by id, or by a selection the list's filters describe, resolved here on
 * the primary (what the user just saw, even if the replica has not caught up). The ids go in commands of at most
 * MAX_BULK_IDS, newest first, stored with the batch and one `mail.command` outbox row each in one transaction: the
 * whole batch or nothing. Every refusal comes before anything is written. A batch id seen before answers the
 * batch's current state (same user, same request: nothing is resolved again) or BATCH_ID_CONFLICT.
 */
@CommandHandler(SubmitCommandBatch)
export class SubmitCommandBatchHandler implements ICommandHandler<SubmitCommandBatch> {
  private readonly logger = new Logger('MailCommands');

  constructor(
    private readonly accounts: MailAccountsRepository,
    private readonly checks: CommandChecksRepository,
    private readonly batches: MailCommandBatchesRepository,
    private readonly outbox: MailCommandOutbox,
    private readonly dataSource: DataSource,
  ) {}

  async execute({ userId, request }: SubmitCommandBatch): Promise<SubmitCommandBatchResult> {
    const account = await this.accounts.findForUser(userId, request.accountId);
    if (!account) throw CommandErrors.accountNotFound();
    const hash = batchRequestHash(request);
    const clientId = request.id?.toLowerCase();
    if (clientId) {
      const seen = await this.batches.fingerprint(clientId);
      if (seen) return this.existing(userId, clientId, seen.userId === userId && seen.requestHash === hash);
    }

    const destination =
      request.action === 'move' ? await this.checks.folderId(account.id, request.destinationFolderId) : null;
    if (request.action === 'move' && !destination) throw CommandErrors.unknownFolder();
    const ids = await this.messageIds(userId, account.id, request);
    if (ids.length === 0) throw CommandBatchErrors.nothingSelected();

    const id = clientId ?? randomUUID();
    const fields = actionFields(request, destination);
    const commands: NewCommandBatch['commands'] = [];
    for (let start = 0; start < ids.length; start += MAX_BULK_IDS) {
      const command = {
        accountId: account.id,
        ...fields,
        messageIds: ids.slice(start, start + MAX_BULK_IDS),
      } as MailCommandRequest;
      commands.push({ id: randomUUID(), request: storedRequest(command), requestHash: requestHash(command) });
    }
    const created = await this.dataSource.transaction(async (manager) => {
      const result = await this.batches.create(manager, {
        id,
        userId,
        accountId: account.id,
        action: request.action,
        requestHash: hash,
        messageCount: ids.length,
        commands,
      });
      if (result.created) {
        for (const c of commands) {
          await this.outbox.add(manager, { id: c.id, accountId: account.id, action: request.action });
        }
      }
      return result;
    });
    // a concurrent submit of the same id won the insert: its batch, or a conflict
    if (!created.created) return this.existing(userId, id, created.sameRequest);
    this.outbox.committed();
    this.logger.log(
      `batch ${id} (${request.action}) queued: ${ids.length} messages in ${commands.length} commands`,
    );
    return { created: true, batch: await this.view(userId, id) };
  }

  /** The messages the batch names: every explicit id in the mirror, or what the selection resolves to. */
  private async messageIds(
    userId: string,
    accountId: string,
    request: CommandBatchRequest,
  ): Promise<string[]> {
    if (request.messageIds) {
      const ids = [...new Set(request.messageIds)];
      const missing = await this.checks.missingMessages(accountId, ids);
      if (missing.length > 0) throw CommandErrors.messageNotFound(missing);
      return ids;
    }
    const { excludeIds, ...filter } = request.selection ?? { excludeIds: [] };
    const clean: MessageListFilter = {};
    for (const [k, v] of Object.entries(filter) as Array<[keyof MessageListFilter, unknown]>) {
      if (v !== undefined) Object.assign(clean, { [k]: v });
    }
    const resolved = await this.batches.resolveSelection(
      { userId, accountId },
      clean,
      excludeIds,
      MAX_BATCH_MESSAGES,
    );
    if (!resolved.ok) {
      throw resolved.error === 'FOLDER_NOT_FOUND'
        ? CommandBatchErrors.folderNotFound()
        : CommandErrors.accountNotFound();
    }
    if (resolved.value.length > MAX_BATCH_MESSAGES) throw CommandBatchErrors.tooLarge();
    return resolved.value;
  }

  private async existing(
    userId: string,
    id: string,
    sameRequest: boolean,
  ): Promise<SubmitCommandBatchResult> {
    if (!sameRequest) throw CommandBatchErrors.idConflict();
    return { created: false, batch: await this.view(userId, id) };
  }

  private async view(userId: string, id: string): Promise<CommandBatchView> {
    const batch = await this.batches.findForUser(userId, id);
    if (!batch) throw new Error(`batch ${id} was stored but cannot be read back`);
    return batch;
  }
}
