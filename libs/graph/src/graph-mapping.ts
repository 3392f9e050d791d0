import { GraphError } from '@microsoft/microsoft-graph-client';
import { AccessTokenFailure } from './graph-middleware';
import { isRetryableGraphStatus, retryAfterMs } from './retry-after';
import {
  AccountTokensNotFoundError,
  GraphRequestError,
  GraphTransientError,
  SyncStateNotFoundError,
  type DeltaPage,
  type GraphFolder,
  type GraphMessage,
  type GraphRecipient,
  ReauthRequiredError,
} from './types';

/** Graph's wire shapes, as far as the mirror reads them (graph-contract §2, §3). */
export interface RawRecipient {
  emailAddress?: { name?: string | null; address?: string | null } | null;
}

export interface RawMessage {
  id: string;
  '@removed'?: { reason?: string };
  parentFolderId?: string | null;
  changeKey?: string | null;
  subject?: string | null;
  from?: RawRecipient | null;
  toRecipients?: RawRecipient[] | null;
  ccRecipients?: RawRecipient[] | null;
  bodyPreview?: string | null;
  body?: { contentType?: string | null; content?: string | null } | null;
  receivedDateTime?: string | null;
  createdDateTime?: string | null;
  sentDateTime?: string | null;
  isRead?: boolean | null;
  flag?: { flagStatus?: string | null } | null;
  importance?: string | null;
  hasAttachments?: boolean | null;
  conversationId?: string | null;
  internetMessageId?: string | null;
  isDraft?: boolean | null;
}

export interface RawFolder {
  id: string;
  displayName?: string | null;
  parentFolderId?: string | null;
  childFolderCount?: number | null;
  totalItemCount?: number | null;
  unreadItemCount?: number | null;
}

export interface RawCollection<T> {
  value?: T[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

/** The properties a mirrored message needs; sent as `$select` so delta links replay exactly these. */
export const MESSAGE_SELECT = [
  'id',
  'parentFolderId',
  'changeKey',
  'subject',
  'from',
  'toRecipients',
  'ccRecipients',
  'bodyPreview',
  'body',
  'receivedDateTime',
  'createdDateTime',
  'sentDateTime',
  'isRead',
  'flag',
  'importance',
  'hasAttachments',
  'conversationId',
  'internetMessageId',
  'isDraft',
].join(',');

export function mapRecipient(raw: RawRecipient | null | undefined): GraphRecipient | null {
  const e = raw?.emailAddress;
  if (!e || (!e.address && !e.name)) return null;
  return { name: e.name ?? '', address: e.address ?? '' };
}

function mapRecipients(raw: RawRecipient[] | null | undefined): GraphRecipient[] {
  const out: GraphRecipient[] = [];
  for (const r of raw ?? []) {
    const m = mapRecipient(r);
    if (m) out.push(m);
  }
  return out;
}

function flagStatus(value: string | null | undefined): GraphMessage['flagStatus'] {
  const v = value?.toLowerCase();
  return v === 'flagged' || v === 'complete' ? v : 'notFlagged';
}

function importance(value: string | null | undefined): GraphMessage['importance'] {
  const v = value?.toLowerCase();
  return v === 'low' || v === 'high' ? v : 'normal';
}

/** A Graph message (not a `@removed` entry) as the mirror stores it. `folderId` is used when Graph omits it. */
export function mapGraphMessage(raw: RawMessage, folderId?: string): GraphMessage {
  return {
    id: raw.id,
    folderId: raw.parentFolderId ?? folderId ?? '',
    changeKey: raw.changeKey ?? '',
    subject: raw.subject ?? '',
    from: mapRecipient(raw.from),
    toRecipients: mapRecipients(raw.toRecipients),
    ccRecipients: mapRecipients(raw.ccRecipients),
    bodyPreview: raw.bodyPreview ?? '',
    body: {
      contentType: raw.body?.contentType?.toLowerCase() === 'text' ? 'text' : 'html',
      content: raw.body?.content ?? '',
    },
    receivedAt: raw.receivedDateTime ?? raw.createdDateTime ?? new Date(0).toISOString(),
    sentAt: raw.sentDateTime ?? null,
    isRead: raw.isRead ?? false,
    flagStatus: flagStatus(raw.flag?.flagStatus),
    importance: importance(raw.importance),
    hasAttachments: raw.hasAttachments ?? false,
    conversationId: raw.conversationId ?? null,
    internetMessageId: raw.internetMessageId ?? null,
    isDraft: raw.isDraft === true,
  };
}

/** One delta response page: changed messages, removed ids, and exactly one of nextLink / deltaLink. */
export function mapDeltaResponse(raw: RawCollection<RawMessage>, folderId?: string): DeltaPage {
  const page: DeltaPage = { messages: [], removedIds: [] };
  for (const item of raw.value ?? []) {
    if (item['@removed']) page.removedIds.push(item.id);
    else page.messages.push(mapGraphMessage(item, folderId));
  }
  const next = raw['@odata.nextLink'];
  const delta = raw['@odata.deltaLink'];
  if (next) page.nextLink = next;
  else if (delta) page.deltaLink = delta;
  else
    throw new GraphRequestError(
      200,
      'InvalidDeltaResponse',
      'delta page has neither a nextLink nor a deltaLink',
    );
  return page;
}

export function mapFolder(
  raw: RawFolder,
  parentFolderId: string | null,
  wellKnownName: string | null,
): GraphFolder {
  return {
    id: raw.id,
    parentFolderId,
    displayName: raw.displayName ?? '',
    wellKnownName,
    totalItemCount: raw.totalItemCount ?? 0,
    unreadItemCount: raw.unreadItemCount ?? 0,
  };
}

const SYNC_STATE_GONE = /syncstatenotfound|resyncrequired|invalidsyncstatedata/i;

/**
 * Turns what the Graph SDK throws into the product's errors: a lost delta state (410 or a sync-state code) into
 * `SyncStateNotFoundError`; 429, 5xx, timeouts and network failures (after the client's retries) into
 * `GraphTransientError`; any other error answer (4xx) into `GraphRequestError`. A failure of the token provider
 * is the account's own when the vault says so (`ReauthRequiredError`, `AccountTokensNotFoundError`, as raised,
 * so workers mark the account and tell its user); any other token failure is transient (status 0, named after
 * the original). Other errors pass through.
 */
export function toGraphFailure(err: unknown): Error {
  if (err instanceof AccessTokenFailure) {
    const original = err.original;
    if (original instanceof ReauthRequiredError || original instanceof AccountTokensNotFoundError) {
      return original;
    }
    return new GraphTransientError(0, original.name || 'TokenUnavailable', original.message);
  }
  if (
    err instanceof SyncStateNotFoundError ||
    err instanceof GraphRequestError ||
    err instanceof GraphTransientError
  ) {
    return err;
  }
  if (!(err instanceof GraphError)) return err instanceof Error ? err : new Error(String(err));
  const status = typeof err.statusCode === 'number' ? err.statusCode : -1;
  const code = err.code ?? '';
  const message = err.message || code || `Graph answered ${status}`;
  if (status === 410 || SYNC_STATE_GONE.test(code))
    return new SyncStateNotFoundError(`${code || 'Gone'}: ${message}`);
  if (status <= 0) return new GraphTransientError(0, code || 'NetworkError', message);
  if (isRetryableGraphStatus(status) || status >= 500) {
    const header = err.headers?.get('retry-after');
    const after = header ? retryAfterMs(header, { fallbackMs: 0, maxMs: 24 * 3600 * 1000 }) : undefined;
    return new GraphTransientError(status, code, message, after);
  }
  return new GraphRequestError(status, code, message);
}
