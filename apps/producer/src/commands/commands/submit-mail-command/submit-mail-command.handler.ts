import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import type { MailCommandRequest } from '@email-core/contracts';
import {
  CommandUploadsRepository,
  MailAccountsRepository,
  MailCommandsRepository,
} from '@email-core/database';
import { CommandChecksRepository } from '../../command-checks.repository';
import { CommandErrors } from '../../command-errors';
import {
  checkRecipients,
  decodeAttachments,
  requestHash,
  sanitizedRequest,
  storedRequest,
  targetMessageIds,
  uploadedAttachments,
  type AttachmentMetadata,
  type UploadedAttachmentRef,
} from '../../command-request';
import { MailCommandOutbox } from '../../mail-command-outbox';
import { UploadErrors } from '../../upload-errors';
import { SubmitMailCommand, type SubmitMailCommandResult } from './submit-mail-command.command';

/**
 * Validates a command against the user's account and its mirror, then stores it and its `mail.command` outbox
 * row in one transaction; attachments uploaded beforehand (`POST /uploads`) move into the command in that same
 * transaction (so the worker finds every attachment in `mail_command_attachments`, whichever way it came). Every refusal comes before anything is written. A command id seen before answers the
 * command's current state (same user, same request) or COMMAND_ID_CONFLICT, without validating again: a retry of
 * a delete must not fail because the delete already happened.
 */
@CommandHandler(SubmitMailCommand)
export class SubmitMailCommandHandler implements ICommandHandler<SubmitMailCommand> {
  private readonly logger = new Logger('MailCommands');

  constructor(
    private readonly accounts: MailAccountsRepository,
    private readonly checks: CommandChecksRepository,
    private readonly commands: MailCommandsRepository,
    private readonly uploads: CommandUploadsRepository,
    private readonly outbox: MailCommandOutbox,
    private readonly dataSource: DataSource,
  ) {}

  async execute({ userId, request }: SubmitMailCommand): Promise<SubmitMailCommandResult> {
    const account = await this.accounts.findForUser(userId, request.accountId);
    if (!account) throw CommandErrors.accountNotFound();
    const hash = requestHash(request);
    // Postgres answers uuids in lower case; so does the API, whatever case the client wrote
    const clientId = request.id?.toLowerCase();
    if (clientId) {
      const seen = await this.seenBefore(userId, clientId, hash);
      if (seen) return seen;
    }

    checkRecipients(request);
    const attachments = decodeAttachments(request);
    const uploaded = uploadedAttachments(request);
    const uploads = await this.resolveUploads(userId, uploaded);
    const missing = await this.checks.missingMessages(account.id, targetMessageIds(request));
    if (missing.length > 0) throw CommandErrors.messageNotFound(missing);
    const resolved = await this.resolveFolder(account.id, request);

    const id = clientId ?? randomUUID();
    const result = await this.dataSource.transaction(async (manager) => {
      const created = await this.commands.create(manager, {
        id,
        userId,
        accountId: account.id,
        action: request.action,
        request: storedRequest(sanitizedRequest(resolved), uploads),
        requestHash: hash,
        attachments,
      });
      if (created.created) {
        for (const ref of uploaded) {
          const moved = await this.uploads.moveIntoCommand(manager, { ...ref, userId, commandId: id });
          // taken by a concurrent command, or expired, since resolveUploads: the whole command rolls back
          if (!moved) throw CommandErrors.uploadNotFound(ref.position, ref.uploadId);
        }
        await this.outbox.add(manager, { id, accountId: account.id, action: request.action });
      }
      return created;
    });
    if (result.created) {
      this.outbox.committed();
      // under the request's correlation id, which the outbox row carries to the worker's lines for it
      this.logger.log(`command ${id} (${request.action}) queued for account ${account.id}`);
      return { created: true, command: result.command };
    }
    // the same id committed by a concurrent request between our check and our insert
    if (!result.sameRequest || !result.command) throw CommandErrors.idConflict();
    return { created: false, command: result.command };
  }

  private async seenBefore(
    userId: string,
    id: string,
    hash: string,
  ): Promise<SubmitMailCommandResult | null> {
    const existing = await this.checks.fingerprint(id);
    if (!existing) return null;
    if (existing.userId !== userId || existing.requestHash !== hash) throw CommandErrors.idConflict();
    const command = await this.commands.findForUser(userId, id);
    // deleted in between (the account was unlinked): treat the id as new
    return command ? { created: false, command } : null;
  }

  /**
   * The user's uploads that the command names; 404 UPLOAD_NOT_FOUND for one that is not (or no longer) theirs,
   * 409 UPLOAD_INCOMPLETE for a session still waiting for some of its chunks.
   */
  private async resolveUploads(
    userId: string,
    refs: UploadedAttachmentRef[],
  ): Promise<Map<string, AttachmentMetadata>> {
    const found = await this.uploads.findForUser(
      userId,
      refs.map((r) => r.uploadId),
    );
    const byId = new Map<string, AttachmentMetadata>(found.map((u) => [u.id, u]));
    const missing = refs.find((r) => !byId.has(r.uploadId));
    if (missing) throw CommandErrors.uploadNotFound(missing.position, missing.uploadId);
    for (const ref of refs) {
      const u = found.find((f) => f.id === ref.uploadId)!;
      if (u.received !== u.size) throw UploadErrors.incomplete(ref.position, u.id, u.received, u.size);
    }
    return byId;
  }

  /** A move names its folder by id or well-known name; the stored command always carries the folder's id. */
  private async resolveFolder(accountId: string, request: MailCommandRequest): Promise<MailCommandRequest> {
    if (request.action !== 'move') return request;
    const folderId = await this.checks.folderId(accountId, request.destinationFolderId);
    if (!folderId) throw CommandErrors.unknownFolder();
    return { ...request, destinationFolderId: folderId };
  }
}
