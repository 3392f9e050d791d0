import type { FolderRecord, MessageRecord } from '../store/model';
import type { MailboxStore } from '../store/mailbox-store';
import { notFound } from './graph-error';
import type { GraphContext } from './graph-router';

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

export function folderPathSegment(folder: FolderRecord): string {
  return `mailFolders('${folder.id}')`;
}

export function jsonBody(ctx: GraphContext): Record<string, unknown> {
  const b = ctx.req.body;
  return b && typeof b === 'object' && !Array.isArray(b) ? (b as Record<string, unknown>) : {};
}
