import { Injectable, type OnModuleInit } from '@nestjs/common';
import { decodeDeltaToken, deltaPage, encodeDeltaToken, startRound, type DeltaState } from '../store/delta';
import { StatsService } from '../faults/stats.service';
import { MailboxStore } from '../store/mailbox-store';
import { messageView } from '../store/message-view';
import { folderParam } from './graph-context';
import { GraphError } from './graph-error';
import type { GraphContext, GraphResponse } from './graph-router';
import { GraphRouter } from './graph-router';
import { odataContext, parsePrefer, parseSelect, preferenceHeaders } from './odata';

const MAX_PAGE = 1000;

const syncStateNotFound = (generation: number, current: number) =>
  new GraphError(
    410,
    'SyncStateNotFound',
    `The sync state generation is not found; generation=${generation};[highest=${current}][${current}].`,
  );

/**
 * Per-folder message delta, as Outlook serves it: pages sized by `Prefer: odata.maxpagesize` ($top is
 * ignored, as reported for the real service), `@removed` entries for messages deleted or moved out, a
 * nextLink with a `$skiptoken` until the round is complete, then a deltaLink with a `$deltatoken`.
 */
@Injectable()
export class MessageDeltaRoutes implements OnModuleInit {
  constructor(
    private readonly router: GraphRouter,
    private readonly store: MailboxStore,
    private readonly stats: StatsService,
  ) {}

  onModuleInit(): void {
    this.router.add('GET', 'me/mailFolders/:folder/messages/delta', (ctx) => this.delta(ctx));
  }

  private delta(ctx: GraphContext): GraphResponse {
    const folder = folderParam(this.store, ctx);
    const mailbox = ctx.mailbox;
    const prefer = parsePrefer(ctx.req.headers.prefer);
    const pageSize = Math.min(prefer.maxPageSize ?? 10, MAX_PAGE);
    const skipToken = ctx.req.query.get('$skiptoken') ?? ctx.req.query.get('$skipToken');
    const deltaToken = ctx.req.query.get('$deltatoken') ?? ctx.req.query.get('$deltaToken');
    let state: DeltaState;
    if (skipToken !== null || deltaToken !== null) {
      if (deltaToken === 'latest') {
        throw new GraphError(
          400,
          'ErrorInvalidUrlQuery',
          "The value 'latest' of '$deltatoken' is not supported for messages.",
        );
      }
      const token = decodeDeltaToken((skipToken ?? deltaToken) as string);
      if (!token || token.mailboxNo !== mailbox.no || token.folderSerial !== folder.serial) {
        throw new GraphError(400, 'ErrorInvalidUrlQuery', 'The sync state token is invalid for this folder.');
      }
      if (token.generation !== mailbox.syncGeneration)
        throw syncStateNotFound(token.generation, mailbox.syncGeneration);
      state = skipToken !== null ? token : startRound(mailbox, folder, token.since, token.select);
    } else {
      const rawSelect = ctx.req.query.get('$select');
      parseSelect(rawSelect);
      state = startRound(mailbox, folder, 0, rawSelect);
    }
    const select = parseSelect(state.select);
    const page = deltaPage(folder, state, pageSize);
    const opts = {
      select,
      bodyType: prefer.bodyType,
      immutableIds: prefer.immutableIds,
      baseUrl: ctx.origin,
    };
    const value = page.items.map((item) =>
      item.kind === 'message'
        ? { '@odata.type': '#microsoft.graph.message', ...messageView(this.store, item.message, opts) }
        : {
            '@odata.type': '#microsoft.graph.message',
            id: prefer.immutableIds ? item.removal.message.immutableId : item.removal.id,
            '@removed': { reason: item.removal.reason },
          },
    );
    this.stats.deltaServed(mailbox.address, value.length);
    const link = `${ctx.origin}/v1.0/${ctx.userPrefix}/mailFolders('${folder.id}')/messages/delta`;
    const body: Record<string, unknown> = {
      '@odata.context': odataContext(ctx, 'Collection(message)'),
      value,
    };
    if (page.next) body['@odata.nextLink'] = `${link}?$skiptoken=${encodeDeltaToken(page.next)}`;
    else
      body['@odata.deltaLink'] =
        `${link}?$deltatoken=${encodeDeltaToken({ ...state, since: state.upto, after: state.upto })}`;
    return { status: 200, headers: preferenceHeaders(prefer), body };
  }
}
