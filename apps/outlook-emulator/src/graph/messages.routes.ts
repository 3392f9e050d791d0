import { Injectable, type OnModuleInit } from '@nestjs/common';
import { flagNumber, MailboxStore, type MessagePatch } from '../store/mailbox-store';
import { iso, messageView } from '../store/message-view';
import type { EmailAddress, Mailbox, MessageRecord } from '../store/model';
import { folderParam, jsonBody, messageParam } from './graph-context';
import { GraphError, notFound } from './graph-error';
import type { GraphContext, GraphResponse } from './graph-router';
import { GraphRouter } from './graph-router';
import { filterProperties, matchesAll, parseMessageFilter } from './message-filter';
import { linkWith, odataContext, parseIntParam, parsePrefer, parseSelect, preferenceHeaders } from './odata';

const WRITE = ['Mail.ReadWrite'];
const PATCHABLE = new Set([
  'isread',
  'flag',
  'subject',
  'body',
  'importance',
  'categories',
  'inferenceclassification',
  'torecipients',
  'ccrecipients',
  'bccrecipients',
  'replyto',
  'isreadreceiptrequested',
]);

/** message list (per folder and whole mailbox), get, patch, delete, move and attachments */
@Injectable()
export class MessagesRoutes implements OnModuleInit {
  private readonly allSorted = new WeakMap<Mailbox, { seq: number; list: MessageRecord[] }>();

  constructor(
    private readonly router: GraphRouter,
    private readonly store: MailboxStore,
  ) {}

  onModuleInit(): void {
    const r = this.router;
    r.add('GET', 'me/messages', (ctx) =>
      this.list(ctx, this.mailboxSorted(ctx.mailbox), `${ctx.userPrefix}/messages`),
    );
    r.add('GET', 'me/mailFolders/:folder/messages', (ctx) => {
      const folder = folderParam(this.store, ctx);
      return this.list(
        ctx,
        this.store.sortedMessages(folder),
        `${ctx.userPrefix}/mailFolders('${folder.id}')/messages`,
      );
    });
    for (const base of ['me/messages/:id', 'me/mailFolders/:folder/messages/:id']) {
      r.add('GET', base, (ctx) => this.get(ctx));
      r.add('PATCH', base, (ctx) => this.patch(ctx), { scopes: WRITE });
      r.add('DELETE', base, (ctx) => this.remove(ctx), { scopes: WRITE });
      r.add('POST', `${base}/move`, (ctx) => this.move(ctx), { scopes: WRITE });
      r.add('GET', `${base}/attachments`, (ctx) => this.attachments(ctx));
      r.add('GET', `${base}/attachments/:attachment`, (ctx) => this.attachment(ctx));
    }
  }

  private mailboxSorted(mailbox: Mailbox): MessageRecord[] {
    const cached = this.allSorted.get(mailbox);
    if (cached && cached.seq === mailbox.seq) return cached.list;
    const list: MessageRecord[] = [];
    for (const m of mailbox.messages) if (m) list.push(m);
    list.sort((a, b) => b.receivedAt - a.receivedAt || b.serial - a.serial);
    this.allSorted.set(mailbox, { seq: mailbox.seq, list });
    return list;
  }

  private inFolder(ctx: GraphContext, msg: MessageRecord): void {
    if (ctx.params.folder !== undefined && folderParam(this.store, ctx) !== msg.folder) throw notFound();
  }

  private list(ctx: GraphContext, sorted: MessageRecord[], path: string): GraphResponse {
    const prefer = parsePrefer(ctx.req.headers.prefer);
    const select = parseSelect(ctx.req.query.get('$select'));
    const top = parseIntParam(ctx, '$top', 1, 1000) ?? prefer.maxPageSize ?? 10;
    const skip = parseIntParam(ctx, '$skip', 0, Number.MAX_SAFE_INTEGER) ?? 0;
    const clauses = parseMessageFilter(this.store, ctx.req.query.get('$filter'));
    const orderby = (ctx.req.query.get('$orderby') ?? '').trim();
    let list = sorted;
    if (orderby) {
      const m = /^(receivedDateTime)(\s+(asc|desc))?$/i.exec(orderby);
      if (!m) throw new GraphError(400, 'BadRequest', `The $orderby '${orderby}' is not supported.`);
      if (clauses.length && filterProperties(clauses)[0] !== 'receiveddatetime') {
        throw new GraphError(
          400,
          'InefficientFilter',
          'The restriction or sort order is too complex for this operation.',
        );
      }
      if ((m[3] ?? 'asc').toLowerCase() === 'asc') list = [...sorted].reverse();
    }
    const search = ctx.req.query.get('$search');
    const needle = search ? search.replace(/^"|"$/g, '').toLowerCase() : undefined;
    const page: MessageRecord[] = [];
    let matched = 0;
    let hasMore = false;
    const countAll = ctx.req.query.get('$count') === 'true';
    for (const msg of list) {
      if (clauses.length && !matchesAll(clauses, msg)) continue;
      if (needle && !this.searchMatches(msg, needle)) continue;
      if (matched >= skip && page.length < top) page.push(msg);
      else if (page.length >= top) {
        hasMore = true;
        if (!countAll) break;
      }
      matched++;
    }
    const opts = {
      select,
      bodyType: prefer.bodyType,
      immutableIds: prefer.immutableIds,
      baseUrl: ctx.origin,
    };
    const body: Record<string, unknown> = {
      '@odata.context': odataContext(ctx, 'users/messages'),
      value: page.map((m) => messageView(this.store, m, opts)),
    };
    if (countAll) body['@odata.count'] = matched;
    if (hasMore)
      body['@odata.nextLink'] = linkWith(ctx, path, { $skip: String(skip + top), $top: String(top) });
    return { status: 200, headers: preferenceHeaders(prefer), body };
  }

  private searchMatches(msg: MessageRecord, needle: string): boolean {
    const c = this.store.content(msg);
    return (
      c.subject.toLowerCase().includes(needle) ||
      c.from.address.toLowerCase().includes(needle) ||
      c.from.name.toLowerCase().includes(needle) ||
      c.body.toLowerCase().includes(needle)
    );
  }

  private get(ctx: GraphContext): GraphResponse {
    const msg = messageParam(this.store, ctx);
    this.inFolder(ctx, msg);
    const prefer = parsePrefer(ctx.req.headers.prefer);
    const select = parseSelect(ctx.req.query.get('$select'));
    return {
      status: 200,
      headers: preferenceHeaders(prefer),
      body: {
        '@odata.context': odataContext(ctx, 'users/messages/$entity'),
        ...messageView(this.store, msg, {
          select,
          bodyType: prefer.bodyType,
          immutableIds: prefer.immutableIds,
          baseUrl: ctx.origin,
        }),
      },
    };
  }

  private patch(ctx: GraphContext): GraphResponse {
    const msg = messageParam(this.store, ctx);
    this.inFolder(ctx, msg);
    const body = jsonBody(ctx);
    const patch: MessagePatch = {};
    for (const [key, value] of Object.entries(body)) {
      const k = key.toLowerCase();
      if (!PATCHABLE.has(k)) {
        throw new GraphError(
          400,
          'ErrorInvalidProperty',
          `The property '${key}' does not exist on type 'microsoft.graph.message' or cannot be updated.`,
        );
      }
      const bad = () => new GraphError(400, 'ErrorInvalidRequest', `Invalid value for property '${key}'.`);
      switch (k) {
        case 'isread':
          if (typeof value !== 'boolean') throw bad();
          patch.isRead = value;
          break;
        case 'flag': {
          const status = (value as { flagStatus?: unknown } | null)?.flagStatus;
          if (status !== 'notFlagged' && status !== 'flagged' && status !== 'complete') throw bad();
          patch.flag = flagNumber(status);
          break;
        }
        case 'subject':
          if (typeof value !== 'string') throw bad();
          patch.subject = value;
          break;
        case 'body': {
          const b = value as { contentType?: unknown; content?: unknown } | null;
          if (!b || typeof b.content !== 'string') throw bad();
          patch.body = { contentType: b.contentType === 'text' ? 'text' : 'html', content: b.content };
          break;
        }
        case 'importance':
          if (value !== 'low' && value !== 'normal' && value !== 'high') throw bad();
          patch.importance = value;
          break;
        case 'categories':
          if (!Array.isArray(value) || !value.every((c) => typeof c === 'string')) throw bad();
          patch.categories = value;
          break;
        case 'inferenceclassification':
          if (value !== 'focused' && value !== 'other') throw bad();
          patch.inferenceClassification = value;
          break;
        case 'isreadreceiptrequested':
          if (typeof value !== 'boolean') throw bad();
          patch.isReadReceiptRequested = value;
          break;
        default: {
          const list = recipients(value);
          if (!list) throw bad();
          const field = (
            {
              torecipients: 'toRecipients',
              ccrecipients: 'ccRecipients',
              bccrecipients: 'bccRecipients',
              replyto: 'replyTo',
            } as const
          )[k as 'torecipients'];
          patch[field] = list;
        }
      }
    }
    this.store.updateMessage(msg, patch);
    return this.get({ ...ctx, params: { ...ctx.params, id: msg.id } });
  }

  private remove(ctx: GraphContext): GraphResponse {
    const msg = messageParam(this.store, ctx);
    this.inFolder(ctx, msg);
    this.store.deleteMessage(msg);
    return { status: 204 };
  }

  private move(ctx: GraphContext): GraphResponse {
    const msg = messageParam(this.store, ctx);
    this.inFolder(ctx, msg);
    const dest = jsonBody(ctx).destinationId;
    if (typeof dest !== 'string' || !dest) {
      throw new GraphError(400, 'ErrorInvalidRequest', "The parameter 'destinationId' is required.");
    }
    const folder = this.store.resolveFolder(ctx.mailbox, dest);
    if (!folder || folder === ctx.mailbox.root) throw notFound();
    this.store.moveMessage(msg, folder);
    const prefer = parsePrefer(ctx.req.headers.prefer);
    return {
      status: 201,
      headers: preferenceHeaders(prefer),
      body: {
        '@odata.context': odataContext(ctx, 'users/messages/$entity'),
        ...messageView(this.store, msg, {
          bodyType: prefer.bodyType,
          immutableIds: prefer.immutableIds,
          baseUrl: ctx.origin,
        }),
      },
    };
  }

  private attachmentList(ctx: GraphContext): { msg: MessageRecord; items: Record<string, unknown>[] } {
    const msg = messageParam(this.store, ctx);
    this.inFolder(ctx, msg);
    const items = this.store.attachments(msg).map((a, i) => ({
      '@odata.type': '#microsoft.graph.fileAttachment',
      '@odata.mediaContentType': a.contentType,
      id: `${msg.immutableId}.${i}`,
      lastModifiedDateTime: iso(msg.createdAt),
      name: a.name,
      contentType: a.contentType,
      size: a.size,
      isInline: a.isInline,
      contentId: null,
      contentLocation: null,
      contentBytes: a.contentBytes,
    }));
    return { msg, items };
  }

  private attachments(ctx: GraphContext): GraphResponse {
    const { items } = this.attachmentList(ctx);
    return {
      status: 200,
      body: { '@odata.context': odataContext(ctx, 'users/messages/attachments'), value: items },
    };
  }

  private attachment(ctx: GraphContext): GraphResponse {
    const { items } = this.attachmentList(ctx);
    const found = items.find((a) => a.id === ctx.params.attachment);
    if (!found) throw notFound();
    return {
      status: 200,
      body: { '@odata.context': odataContext(ctx, 'users/messages/attachments/$entity'), ...found },
    };
  }
}

export function recipients(value: unknown): EmailAddress[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: EmailAddress[] = [];
  for (const r of value) {
    const e = (r as { emailAddress?: { name?: unknown; address?: unknown } } | null)?.emailAddress;
    if (!e || typeof e.address !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(e.address)) return undefined;
    out.push({ name: typeof e.name === 'string' ? e.name : e.address, address: e.address });
  }
  return out;
}
