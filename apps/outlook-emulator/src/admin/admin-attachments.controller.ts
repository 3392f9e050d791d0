import { createHash } from 'node:crypto';
import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { AdminApiGuard } from '../http/admin-api.guard';
import { MailboxStore } from '../store/mailbox-store';
import { AdminError } from './admin-error';

/**
 * A message's attachments as the emulator holds them, each with the SHA-256 of its bytes, so a test checks a
 * delivered file (a 40 MB one sent through an upload session) without moving it as base64 JSON.
 */
@Controller('_emulator/mailboxes')
@UseGuards(AdminApiGuard)
export class AdminAttachmentsController {
  constructor(private readonly store: MailboxStore) {}

  @Get(':address/messages/:id/attachments')
  list(@Param('address') addr: string, @Param('id') id: string): Record<string, unknown> {
    const mailbox = this.store.findByAddress(addr);
    if (!mailbox) throw new AdminError(404, 'mailbox_not_found', `no mailbox ${addr}`);
    const msg = this.store.getMessage(mailbox, id);
    if (!msg) throw new AdminError(404, 'message_not_found', `no message ${id}`);
    return {
      value: this.store.attachments(msg).map((a) => ({
        name: a.name,
        contentType: a.contentType,
        size: a.size,
        isInline: a.isInline,
        sha256: createHash('sha256').update(Buffer.from(a.contentBytes, 'base64')).digest('hex'),
      })),
    };
  }
}
