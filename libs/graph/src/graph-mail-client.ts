import { Client, type GraphRequest } from '@microsoft/microsoft-graph-client';
import {
  FetchHandler,
  GraphRequestPolicyHandler,
  MailboxLimitHandler,
  RetryAfterHandler,
  type AccessTokenProvider,
  type FetchLike,
  type RetryPolicy,
} from './graph-middleware';
import type { GraphRequestObserver } from './graph-request-observer';
import {
  MESSAGE_SELECT,
  mapDeltaResponse,
  mapFolder,
  mapGraphMessage,
  toGraphFailure,
  type RawCollection,
  type RawFolder,
  type RawMessage,
} from './graph-mapping';
import { sharedMailboxLimiter, type KeyedSemaphore } from './keyed-semaphore';
import {
  GraphRequestError,
  type DeltaPage,
  type GraphFolder,
  type GraphMessage,
  type GraphUser,
} from './types';

export interface GraphMailClientOptions {
  /** `MicrosoftConfig.graphBaseUrl`: `https://graph.microsoft.com` or the emulator's origin */
  graphBaseUrl: string;
  /** what the concurrency limit is counted under: the mail account id */
  mailboxKey: string;
  getAccessToken: AccessTokenProvider;
  /** default: the process-wide limiter (4 per mailbox) */
  limiter?: KeyedSemaphore;
  retry?: Partial<RetryPolicy>;
  /** per HTTP exchange, body included (default 60 s) */
  requestTimeoutMs?: number;
  /** tests: replaces the global fetch */
  fetch?: FetchLike;
  /** tests: replaces the wait between retries */
  sleep?: (ms: number) => Promise<void>;
  /** told every answer, failure, throttling wait and in-flight count (metrics); never the mailbox */
  observer?: GraphRequestObserver;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  backoffBaseMs: 1000,
  maxRetryDelayMs: 60_000,
};

/** The well-known folders the mirror labels (graph-contract §2). */
export const WELL_KNOWN_FOLDERS = [
  'inbox',
  'sentitems',
  'drafts',
  'deleteditems',
  'junkemail',
  'archive',
] as const;

export type DeltaStart = { folderId: string } | { link: string };

/**
 * Microsoft Graph mail for one mailbox, through the official SDK with a middleware chain of our own:
 * retries honouring `Retry-After` → host check, bearer token and `Prefer: IdType="ImmutableId"` → the
 * per-mailbox concurrency limit → fetch. Errors come out as `SyncStateNotFoundError`, `GraphRequestError` or
 * `GraphTransientError` (libs/graph/src/types.ts).
 */
export class GraphMailClient {
  /** The SDK client with the same middleware (limit, retries, token), for calls this class does not wrap. */
  readonly sdk: Client;

  constructor(options: GraphMailClientOptions) {
    const base = new URL(options.graphBaseUrl);
    const retry = new RetryAfterHandler(
      { ...DEFAULT_RETRY_POLICY, ...options.retry },
      options.sleep,
      options.observer,
    );
    const policy = new GraphRequestPolicyHandler(base.origin, options.getAccessToken);
    const limit = new MailboxLimitHandler(
      options.limiter ?? sharedMailboxLimiter,
      options.mailboxKey,
      options.observer,
    );
    const send = new FetchHandler(
      options.fetch ?? ((input, init) => fetch(input, init)),
      options.requestTimeoutMs ?? 60_000,
      options.observer,
    );
    retry.setNext(policy);
    policy.setNext(limit);
    limit.setNext(send);
    this.sdk = Client.initWithMiddleware({
      middleware: retry,
      baseUrl: `${base.origin}/`,
      defaultVersion: 'v1.0',
      customHosts: new Set([base.hostname]),
    });
  }

  /** The signed-in user (`GET /me`). */
  async me(): Promise<GraphUser> {
    const raw = await this.send<{
      id: string;
      displayName?: string | null;
      mail?: string | null;
      userPrincipalName?: string | null;
    }>(this.sdk.api('/me'));
    return {
      id: raw.id,
      displayName: raw.displayName ?? '',
      mail: raw.mail ?? null,
      userPrincipalName: raw.userPrincipalName ?? '',
    };
  }

  /**
   * Every visible folder, nested ones included, parents before their children. Top-level folders have
   * `parentFolderId: null` (their Graph parent is the hidden root). `wellKnownName` is set for the folders
   * `GET me/mailFolders/{name}` answers for inbox, sentitems, drafts, deleteditems, junkemail and archive.
   */
  async listFolderTree(): Promise<GraphFolder[]> {
    const wellKnown = new Map<string, string>();
    await Promise.all(
      WELL_KNOWN_FOLDERS.map(async (name) => {
        try {
          const f = await this.send<RawFolder>(this.sdk.api(`/me/mailFolders/${name}`));
          wellKnown.set(f.id, name);
        } catch (err) {
          // a mailbox without an Archive folder answers 404
          if (err instanceof GraphRequestError && err.status === 404) return;
          throw err;
        }
      }),
    );
    const folders: GraphFolder[] = [];
    let level: Array<{ path: string; parentId: string | null }> = [
      { path: '/me/mailFolders', parentId: null },
    ];
    while (level.length > 0) {
      const listed = await Promise.all(
        level.map(async (l) => ({ l, items: await this.listAll<RawFolder>(`${l.path}?$top=100`) })),
      );
      const next: typeof level = [];
      for (const { l, items } of listed) {
        for (const f of items) {
          folders.push(mapFolder(f, l.parentId, wellKnown.get(f.id) ?? null));
          if ((f.childFolderCount ?? 0) > 0)
            next.push({ path: `/me/mailFolders/${f.id}/childFolders`, parentId: f.id });
        }
      }
      level = next;
    }
    return folders;
  }

  /**
   * The Inbox alone, by its well-known name (one request): what a mailbox's first screen needs before the whole
   * tree is read. The Inbox is a top-level folder (`parentFolderId: null`, as in `listFolderTree`).
   */
  async inboxFolder(): Promise<GraphFolder> {
    const raw = await this.send<RawFolder>(this.sdk.api('/me/mailFolders/inbox'));
    return mapFolder(raw, null, 'inbox');
  }

  /**
   * One page of a folder's message delta: from scratch (`{folderId}`) or from a stored nextLink/deltaLink
   * (`{link}`, replayed verbatim). A lost delta state raises `SyncStateNotFoundError`: start the folder again.
   */
  async deltaPage(start: DeltaStart, pageSize = 200): Promise<DeltaPage> {
    const request =
      'folderId' in start
        ? this.sdk.api(`/me/mailFolders/${start.folderId}/messages/delta`).select(MESSAGE_SELECT)
        : this.sdk.api(start.link);
    request.header('Prefer', `odata.maxpagesize=${pageSize}, IdType="ImmutableId"`);
    const raw = await this.send<RawCollection<RawMessage>>(request);
    return mapDeltaResponse(raw, 'folderId' in start ? start.folderId : undefined);
  }

  /**
   * The newest `top` messages of a folder (`$orderby=receivedDateTime desc`), the same properties as a delta page:
   * what a mailbox's first screen shows, read before its folders' deltas are through.
   */
  async newestMessages(folderId: string, top: number): Promise<GraphMessage[]> {
    const request = this.sdk
      .api(`/me/mailFolders/${folderId}/messages`)
      .select(MESSAGE_SELECT)
      .orderby('receivedDateTime desc')
      .top(top);
    request.header('Prefer', 'IdType="ImmutableId"');
    const raw = await this.send<RawCollection<RawMessage>>(request);
    return (raw.value ?? []).map((m) => mapGraphMessage(m));
  }

  /** One message by (immutable) id; a missing one raises `GraphRequestError` 404 `ErrorItemNotFound`. */
  async getMessage(id: string): Promise<GraphMessage> {
    const raw = await this.send<RawMessage>(this.sdk.api(`/me/messages/${id}`).select(MESSAGE_SELECT));
    return mapGraphMessage(raw);
  }

  /**
   * The folder a message is in now (its `parentFolderId`; ids are immutable, so a moved message keeps its id),
   * or null when the message no longer exists (404). One small request through the mailbox's limit.
   */
  async getMessageFolderId(id: string): Promise<string | null> {
    try {
      const raw = await this.send<{ parentFolderId?: string | null }>(
        this.sdk.api(`/me/messages/${encodeURIComponent(id)}`).select('parentFolderId'),
      );
      return raw.parentFolderId ?? null;
    } catch (err) {
      if (err instanceof GraphRequestError && err.status === 404) return null;
      throw err;
    }
  }

  private async listAll<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let page = await this.send<RawCollection<T>>(this.sdk.api(path));
    for (;;) {
      items.push(...(page.value ?? []));
      const next = page['@odata.nextLink'];
      if (!next) return items;
      page = await this.send<RawCollection<T>>(this.sdk.api(next));
    }
  }

  private async send<T>(request: GraphRequest): Promise<T> {
    try {
      return (await request.get()) as T;
    } catch (err) {
      throw toGraphFailure(err);
    }
  }
}
