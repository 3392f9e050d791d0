import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import type { Request } from 'express';
import { z } from 'zod';
import { AdminApiGuard } from '../http/admin-api.guard';
import { originOf } from '../http/origin';
import { flagNumber, MailboxStore, StoreError } from '../store/mailbox-store';
import { folderView, messageView } from '../store/message-view';
import type { Mailbox, MessageRecord } from '../store/model';
import { ActivityService } from './activity.service';
import { AdminError, parseBody } from './admin-error';

const address = z.object({ name: z.string().optional(), address: z.string().email() });
const recipient = z.object({ emailAddress: address });

const createMailbox = z
  .object({
    address: z.string().min(3),
    displayName: z.string().min(1).max(256).optional(),
    password: z.string().min(1).max(256).optional(),
    seed: z
      .object({
        messages: z.number().int().min(0).max(2_000_000),
        folders: z.number().int().min(0).max(8).optional(),
        seed: z
          .number()
          .int()
          .min(0)
          .max(2 ** 32 - 1)
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const newMessage = z
  .object({
    folder: z.string().optional(),
    subject: z.string().max(1024).optional(),
    body: z.object({ contentType: z.enum(['html', 'text']).optional(), content: z.string() }).optional(),
    from: recipient.optional(),
    toRecipients: z.array(recipient).optional(),
    ccRecipients: z.array(recipient).optional(),
    isRead: z.boolean().optional(),
    importance: z.enum(['low', 'normal', 'high']).optional(),
    flag: z.object({ flagStatus: z.enum(['notFlagged', 'flagged', 'complete']) }).optional(),
    receivedDateTime: z.string().datetime().optional(),
    // a message of an existing conversation (Graph's conversationId), as a reply delivered to this mailbox has
    conversationId: z.string().min(1).max(512).optional(),
    attachments: z
      .array(
        z.object({
          name: z.string().min(1),
          contentType: z.string().optional(),
          contentBytes: z.string(),
          // an inline image: shown in the body where its HTML says cid:<contentId>
          isInline: z.boolean().optional(),
          contentId: z.string().min(1).max(512).optional(),
        }),
      )
      .optional(),
  })
  .strict();

const patchMessage = z
  .object({
    isRead: z.boolean().optional(),
    flag: z.object({ flagStatus: z.enum(['notFlagged', 'flagged', 'complete']) }).optional(),
    subject: z.string().max(1024).optional(),
    importance: z.enum(['low', 'normal', 'high']).optional(),
    categories: z.array(z.string()).optional(),
  })
  .strict();

const activity = z
  .object({
    creates: z.number().int().min(0).max(1_000_000).default(0),
    updates: z.number().int().min(0).max(1_000_000).default(0),
    moves: z.number().int().min(0).max(1_000_000).default(0),
    deletes: z.number().int().min(0).max(1_000_000).default(0),
    perSecond: z.number().positive().max(100_000).optional(),
    seconds: z.number().positive().max(86_400).optional(),
    seed: z.number().int().min(0).optional(),
    wait: z.boolean().default(false),
  })
  .strict();

const unwrap = (r: z.infer<typeof recipient>) => ({
  name: r.emailAddress.name ?? r.emailAddress.address,
  address: r.emailAddress.address,
});

/** mailboxes for tests and demos: create (optionally seeded), inspect, export, and change them "elsewhere" */
@Controller('_emulator/mailboxes')
@UseGuards(AdminApiGuard)
export class AdminMailboxesController {
  constructor(
    private readonly store: MailboxStore,
    private readonly activity: ActivityService,
  ) {}

  @Post()
  create(@Body() body: unknown): Record<string, unknown> {
    const input = parseBody(createMailbox, body);
    try {
      return this.summary(this.store.createMailbox(input));
    } catch (err) {
      if (err instanceof StoreError)
        throw new AdminError(err.code === 'MailboxExists' ? 409 : 400, err.code, err.message);
      throw err;
    }
  }

  @Get()
  list(): Record<string, unknown>[] {
    return this.store
      .list()
      .map((m) => ({ address: m.address, displayName: m.displayName, messages: m.messageCount }));
  }

  @Get(':address')
  get(@Param('address') addr: string): Record<string, unknown> {
    return this.summary(this.mailbox(addr));
  }

  /** ground truth: every folder and every message with all its fields (immutable and current ids) */
  @Get(':address/export')
  export(
    @Param('address') addr: string,
    @Req() req: Request,
    @Query('bodies') bodies?: string,
  ): Record<string, unknown> {
    const m = this.mailbox(addr);
    const origin = originOf(req);
    const select =
      bodies === 'false'
        ? new Set([
            'isread',
            'flag',
            'subject',
            'parentfolderid',
            'receiveddatetime',
            'from',
            'importance',
            'categories',
            'hasattachments',
            'changekey',
          ])
        : undefined;
    const messages: Record<string, unknown>[] = [];
    for (const msg of m.messages) {
      if (!msg) continue;
      messages.push({
        ...messageView(this.store, msg, { baseUrl: origin, select }),
        immutableId: msg.immutableId,
      });
    }
    return {
      address: m.address,
      displayName: m.displayName,
      userId: m.userId,
      folders: this.store
        .allFolders(m)
        .map((f) => ({ ...folderView(f), wellKnownName: f.wellKnownName, path: this.store.folderPath(f) })),
      messages,
    };
  }

  @Post(':address/messages')
  newMail(@Param('address') addr: string, @Body() body: unknown): Record<string, unknown> {
    const m = this.mailbox(addr);
    const input = parseBody(newMessage, body);
    const folder = this.store.resolveFolder(m, input.folder ?? 'inbox');
    if (!folder || folder === m.root)
      throw new AdminError(404, 'folder_not_found', `no folder ${input.folder}`);
    const msg = this.store.createMessage(folder, {
      subject: input.subject ?? 'Hello from the emulator',
      body: input.body ?? {
        contentType: 'html',
        content: '<p>New mail delivered by the Outlook emulator.</p>',
      },
      from: input.from ? unwrap(input.from) : { name: 'Emulator Sender', address: 'sender@emulator.example' },
      toRecipients: input.toRecipients?.map(unwrap) ?? [{ name: m.displayName, address: m.address }],
      ccRecipients: input.ccRecipients?.map(unwrap),
      isRead: input.isRead,
      importance: input.importance,
      flagStatus: input.flag?.flagStatus,
      receivedDateTime: input.receivedDateTime,
      conversationId: input.conversationId,
      attachments: input.attachments?.map((a) => {
        const bytes = Buffer.from(a.contentBytes, 'base64');
        return {
          name: a.name,
          contentType: a.contentType ?? 'application/octet-stream',
          contentBytes: bytes.toString('base64'),
          size: bytes.length,
          isInline: a.isInline === true,
          ...(a.contentId ? { contentId: a.contentId } : {}),
        };
      }),
    });
    return this.ids(msg);
  }

  @Patch(':address/messages/:id')
  change(
    @Param('address') addr: string,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Record<string, unknown> {
    const input = parseBody(patchMessage, body);
    const msg = this.message(addr, id);
    this.store.updateMessage(msg, {
      isRead: input.isRead,
      flag: input.flag ? flagNumber(input.flag.flagStatus) : undefined,
      subject: input.subject,
      importance: input.importance,
      categories: input.categories,
    });
    return this.ids(msg);
  }

  @Post(':address/messages/:id/move')
  move(
    @Param('address') addr: string,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Record<string, unknown> {
    const { destinationId } = parseBody(z.object({ destinationId: z.string().min(1) }).strict(), body);
    const msg = this.message(addr, id);
    const dest = this.store.resolveFolder(msg.mailbox, destinationId);
    if (!dest || dest === msg.mailbox.root)
      throw new AdminError(404, 'folder_not_found', `no folder ${destinationId}`);
    this.store.moveMessage(msg, dest);
    return this.ids(msg);
  }

  @Delete(':address/messages/:id')
  @HttpCode(204)
  remove(@Param('address') addr: string, @Param('id') id: string): void {
    this.store.deleteMessage(this.message(addr, id));
  }

  @Get(':address/activity/:id')
  activityRun(@Param('address') addr: string, @Param('id') id: string): Record<string, unknown> {
    const m = this.mailbox(addr);
    const run = this.activity.get(Number(id));
    if (!run || run.address !== m.address)
      throw new AdminError(404, 'activity_not_found', `no activity run ${id}`);
    return { id: run.id, total: run.total, done: run.done, counts: run.counts, state: run.state };
  }

  @Post(':address/activity')
  async startActivity(
    @Param('address') addr: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const m = this.mailbox(addr);
    const input = parseBody(activity, body);
    const run = this.activity.start(m, input);
    if (input.wait) await run.finished;
    return { id: run.id, total: run.total, done: run.done, counts: run.counts, state: run.state };
  }

  private mailbox(addr: string): Mailbox {
    const m = this.store.findByAddress(addr);
    if (!m) throw new AdminError(404, 'mailbox_not_found', `no mailbox ${addr}`);
    return m;
  }

  private message(addr: string, id: string): MessageRecord {
    const msg = this.store.getMessage(this.mailbox(addr), id);
    if (!msg) throw new AdminError(404, 'message_not_found', `no message ${id}`);
    return msg;
  }

  private ids(msg: MessageRecord): Record<string, unknown> {
    return {
      id: msg.id,
      immutableId: msg.immutableId,
      parentFolderId: msg.folder.id,
      changeKey: msg.changeKey,
    };
  }

  private summary(m: Mailbox): Record<string, unknown> {
    return {
      address: m.address,
      displayName: m.displayName,
      userId: m.userId,
      tenantId: m.tenantId,
      messages: m.messageCount,
      folders: this.store.allFolders(m).map((f) => ({
        id: f.id,
        path: this.store.folderPath(f),
        wellKnownName: f.wellKnownName,
        totalItemCount: f.messages.size,
        unreadItemCount: f.unreadCount,
      })),
    };
  }
}
