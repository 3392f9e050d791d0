import type { FolderRecord, MessageRecord } from '../store/model';
import type { MailboxStore } from '../store/mailbox-store';
import { messageView } from '../store/message-view';
import { notFound } from './graph-error';
import type { GraphContext, GraphResponse } from './graph-router';
import { odataContext, parsePrefer, preferenceHeaders } from './odata';

export function folderParam(store: MailboxStore, ctx: GraphContext, name = 'folder'): FolderRecord {
  const folder = store.resolveFolder(ctx.mailbox, ctx.params[name] ?? '');
  if (!folder) throw notFound();
  return folder;
}

export function messageParam(store: MailboxStore, ctx: GraphContext, name = 'id'): MessageRecord {
  const msg = store.getMessage(ctx.mailbox, ctx.params[name] ?? '');
  if (!msg) throw notFound();
  return msg;
}

/** the message of `messages/{id}` or `mailFolders/{folder}/messages/{id}` (which must be in that folder) */
export function messageInPath(store: MailboxStore, ctx: GraphContext): MessageRecord {
  const msg = messageParam(store, ctx);
  if (ctx.params.folder !== undefined && folderParam(store, ctx) !== msg.folder) throw notFound();
  return msg;
}

/** a message as the answer: `@odata.context`, the Prefer header honoured (ids, body type) and echoed */
export function messageEntity(
  store: MailboxStore,
  ctx: GraphContext,
  msg: MessageRecord,
  status = 200,
): GraphResponse {
  const prefer = parsePrefer(ctx.req.headers.prefer);
  return {
    status,
    headers: preferenceHeaders(prefer),
    body: {
      '@odata.context': odataContext(ctx, 'users/messages/$entity'),
      ...messageView(store, msg, {
        bodyType: prefer.bodyType,
        immutableIds: prefer.immutableIds,
        baseUrl: ctx.origin,
      }),
    },
  };
}

export function folderPathSegment(folder: FolderRecord): string {
  return `mailFolders('${folder.id}')`;
}

export function jsonBody(ctx: GraphContext): Record<string, unknown> {
  const b = ctx.req.body;
  return b && typeof b === 'object' && !Array.isArray(b) ? (b as Record<string, unknown>) : {};
}
