import { Injectable, type OnModuleInit } from '@nestjs/common';
import { MailboxStore } from '../store/mailbox-store';
import { messageView } from '../store/message-view';
import type { Mailbox, MessageRecord } from '../store/model';
import { folderParam, jsonBody, messageEntity, messageInPath } from './graph-context';
import { GraphError, notFound } from './graph-error';
import type { GraphContext, GraphResponse } from './graph-router';
import { GraphRouter } from './graph-router';
import { filterProperties, matchesAll, parseMessageFilter } from './message-filter';
import { DRAFT_ONLY, parseMessageWrite } from './message-input';
import { linkWith, odataContext, parseIntParam, parsePrefer, parseSelect, preferenceHeaders } from './odata';

const WRITE = ['Mail.ReadWrite'];

/** message list (per folder and whole mailbox), get, patch, delete and move */
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
    const msg = messageInPath(this.store, ctx);
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
    const msg = messageInPath(this.store, ctx);
    const { patch } = parseMessageWrite(jsonBody(ctx), 'patch');
    if (!this.store.content(msg).isDraft) {
      const key = Object.keys(jsonBody(ctx)).find((k) => DRAFT_ONLY.has(k.toLowerCase()));
      if (key !== undefined) {
        throw new GraphError(
          400,
          'ErrorInvalidPropertyUpdateSentMessage',
          `Update operation is invalid for property of a sent message: '${key}' can only be updated on a draft.`,
        );
      }
    }
    this.store.updateMessage(msg, patch);
    return this.get({ ...ctx, params: { ...ctx.params, id: msg.id } });
  }

  private remove(ctx: GraphContext): GraphResponse {
    const msg = messageInPath(this.store, ctx);
    this.store.deleteMessage(msg);
    return { status: 204 };
  }

  private move(ctx: GraphContext): GraphResponse {
    const msg = messageInPath(this.store, ctx);
    const dest = jsonBody(ctx).destinationId;
    if (typeof dest !== 'string' || !dest) {
      throw new GraphError(400, 'ErrorInvalidRequest', "The parameter 'destinationId' is required.");
    }
    const folder = this.store.resolveFolder(ctx.mailbox, dest);
    if (!folder || folder === ctx.mailbox.root) throw notFound();
    this.store.moveMessage(msg, folder);
    return messageEntity(this.store, ctx, msg, 201);
  }
}
