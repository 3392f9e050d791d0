import { GraphError, type Client, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import { Readable } from 'node:stream';
import { DEFAULT_RETRY_POLICY, GraphMailClient, type GraphMailClientOptions } from './graph-mail-client';
import {
  AccessTokenFailure,
  GraphRequestPolicyHandler,
  RetryAfterHandler,
  type FetchLike,
} from './graph-middleware';
import { toGraphFailure, type RawCollection } from './graph-mapping';
import { sharedMailboxLimiter, type KeyedSemaphore, type Release } from './keyed-semaphore';
import type { GraphRequestObserver } from './graph-request-observer';

/** An attachment as listed: never its content. */
export interface GraphAttachmentInfo {
  id: string;
  name: string;
  contentType: string;
  size: number;
  isInline: boolean;
  /** the attachment's Content-ID without angle brackets, when Graph has one (an inline image's `cid:`) */
  contentId?: string;
  /** `#microsoft.graph.fileAttachment`, `itemAttachment` or `referenceAttachment` */
  kind: 'file' | 'item' | 'reference' | 'unknown';
}

/** An attachment's bytes as Graph streams them: read `body` once; destroying it ends the request. */
export interface GraphAttachmentContent {
  /** Graph's Content-Type for the bytes, when it sent one */
  contentType: string | null;
  /** Graph's Content-Length, when it sent one */
  contentLength: number | null;
  body: Readable;
}

interface RawAttachment {
  '@odata.type'?: string;
  id: string;
  name?: string | null;
  contentType?: string | null;
  size?: number | null;
  isInline?: boolean | null;
  contentId?: string | null;
}

const ATTACHMENT_SELECT = 'id,name,contentType,size,isInline,contentId';

function kindOf(odataType: string | undefined): GraphAttachmentInfo['kind'] {
  switch (odataType) {
    case '#microsoft.graph.fileAttachment':
      return 'file';
    case '#microsoft.graph.itemAttachment':
      return 'item';
    case '#microsoft.graph.referenceAttachment':
      return 'reference';
    case undefined:
    default:
      return 'unknown';
  }
}

/** Graph's contentId as a `cid:` names it (some senders keep the header's angle brackets) */
function contentIdOf(raw: string | null | undefined): { contentId?: string } {
  const id = raw
    ?.trim()
    .replace(/^<(.*)>$/, '$1')
    .trim();
  return id ? { contentId: id } : {};
}

/** allow-list of the fields we show: `contentBytes` (and anything else Graph adds) never passes */
function mapAttachment(raw: RawAttachment): GraphAttachmentInfo {
  return {
    id: raw.id,
    name: raw.name ?? '',
    contentType: raw.contentType ?? 'application/octet-stream',
    size: typeof raw.size === 'number' ? raw.size : 0,
    isInline: raw.isInline === true,
    ...contentIdOf(raw.contentId),
    kind: kindOf(raw['@odata.type']),
  };
}

const enc = encodeURIComponent;

/**
 * A message's attachments in one mailbox: the list (metadata only, `$select`ed so Graph does not send the
 * content) and one attachment's bytes, streamed from `.../attachments/{id}/$value` to the caller as they arrive.
 * Nothing is buffered whole or written to disk.
 *
 * Both go through the same policy as GraphMailClient: bearer token and `Prefer: IdType="ImmutableId"`, the host
 * check, the per-mailbox concurrency limit and `Retry-After` retries (429/503/504, before any byte of a body has
 * been handed out). A download holds its mailbox permit until its stream ends, fails or is destroyed, because
 * Outlook counts the request in flight until its answer has been read.
 */
export class GraphAttachmentsClient {
  private readonly sdk: Client;
  private readonly stream: Middleware;
  /** `https://graph.microsoft.com/v1.0` or the emulator's */
  private readonly base: string;

  constructor(options: GraphMailClientOptions) {
    this.sdk = new GraphMailClient(options).sdk;
    const base = new URL(options.graphBaseUrl);
    this.base = `${base.origin}/v1.0`;
    const retry = new RetryAfterHandler(
      { ...DEFAULT_RETRY_POLICY, ...options.retry },
      options.sleep,
      options.observer,
    );
    const policy = new GraphRequestPolicyHandler(base.origin, options.getAccessToken);
    const send = new StreamingFetchHandler(
      options.fetch ?? ((input, init) => fetch(input, init)),
      options.limiter ?? sharedMailboxLimiter,
      options.mailboxKey,
      options.requestTimeoutMs ?? 60_000,
      options.observer,
    );
    retry.setNext(policy);
    policy.setNext(send);
    this.stream = retry;
  }

  /** A message's attachments; a missing message raises `GraphRequestError` 404. */
  async list(messageId: string): Promise<GraphAttachmentInfo[]> {
    const items: RawAttachment[] = [];
    try {
      let page = (await this.sdk
        .api(`/me/messages/${enc(messageId)}/attachments`)
        .select(ATTACHMENT_SELECT)
        .get()) as RawCollection<RawAttachment>;
      for (;;) {
        items.push(...(page.value ?? []));
        const next = page['@odata.nextLink'];
        if (!next) break;
        page = (await this.sdk.api(next).get()) as RawCollection<RawAttachment>;
      }
    } catch (err) {
      throw toGraphFailure(err);
    }
    return items.map(mapAttachment);
  }

  /** One attachment's metadata; a missing message or attachment raises `GraphRequestError` 404. */
  async get(messageId: string, attachmentId: string): Promise<GraphAttachmentInfo> {
    try {
      const raw = (await this.sdk
        .api(`/me/messages/${enc(messageId)}/attachments/${enc(attachmentId)}`)
        .select(ATTACHMENT_SELECT)
        .get()) as RawAttachment;
      return mapAttachment(raw);
    } catch (err) {
      throw toGraphFailure(err);
    }
  }

  /**
   * The attachment's raw bytes (`GET .../attachments/{id}/$value`) as a stream. Errors before the first byte
   * come out like GraphMailClient's (`GraphRequestError`, `GraphTransientError`); a failure mid-stream destroys
   * `body` with the error.
   */
  async openContent(messageId: string, attachmentId: string): Promise<GraphAttachmentContent> {
    const context: Context = {
      request: `${this.base}/me/messages/${enc(messageId)}/attachments/${enc(attachmentId)}/$value`,
      options: { method: 'GET', headers: {} },
    };
    try {
      await this.stream.execute(context);
    } catch (err) {
      throw toGraphFailure(networkFailure(err));
    }
    const res = context.response;
    if (!res) throw new Error('no response from Graph');
    if (!res.ok) throw toGraphFailure(await graphErrorOf(res));
    const length = Number(res.headers.get('content-length'));
    const body = streamed(res.body);
    if (!body) throw new Error('Graph answered an attachment without a body');
    return {
      contentType: res.headers.get('content-type'),
      contentLength: Number.isFinite(length) && res.headers.has('content-length') ? length : null,
      body,
    };
  }
}

function streamed(body: Response['body']): Readable | null {
  return body ? Readable.fromWeb(body) : null;
}

/** A network failure or timeout before Graph answered: the SDK's shape for it, so toGraphFailure maps it. */
function networkFailure(err: unknown): unknown {
  if (err instanceof GraphError || err instanceof AccessTokenFailure) return err;
  const failure = new GraphError(-1, err instanceof Error ? err.message : String(err));
  failure.code = err instanceof Error && err.name === 'TimeoutError' ? 'Timeout' : 'NetworkError';
  return failure;
}

/** Graph's `{error: {code, message}}` answer as the SDK would raise it (the body is small: it was buffered). */
async function graphErrorOf(res: Response): Promise<GraphError> {
  let code: string | null = null;
  let message = `Graph answered ${res.status}`;
  try {
    const parsed = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.code === 'string') code = parsed.error.code;
    if (typeof parsed.error?.message === 'string') message = parsed.error.message;
  } catch {
    // not JSON: the status says enough
  }
  const error = new GraphError(res.status, message);
  error.code = code;
  error.headers = res.headers;
  return error;
}

/**
 * Last in the download chain, in place of MailboxLimitHandler + FetchHandler: takes the mailbox permit, sends
 * the request and, for a 2xx, hands the body on as a stream that gives the permit back when it closes (ended,
 * failed or destroyed). Any other answer is read whole (an error document) and the permit released at once, so
 * the retry handler can wait and try again. The timeout covers the wait for the response headers only: a large
 * attachment may take longer than that to stream.
 */
class StreamingFetchHandler implements Middleware {
  constructor(
    private readonly fetchImpl: FetchLike,
    private readonly limiter: KeyedSemaphore,
    private readonly mailboxKey: string,
    private readonly timeoutMs: number,
    private readonly observer?: GraphRequestObserver,
  ) {}

  async execute(context: Context): Promise<void> {
    const release = await this.limiter.acquire(this.mailboxKey);
    this.observer?.started(this.limiter.stats(this.mailboxKey).active);
    const abort = new AbortController();
    const timer = setTimeout(
      () => abort.abort(new DOMException('no answer from Graph in time', 'TimeoutError')),
      this.timeoutMs,
    );
    let res: Response;
    try {
      res = await this.fetchImpl(context.request as string, {
        ...(context.options as RequestInit),
        signal: abort.signal,
      });
    } catch (err) {
      release();
      this.observer?.failed();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    this.observer?.answered(res.status);
    if (!res.ok || !res.body) {
      context.response = await this.buffered(res, release);
      return;
    }
    context.response = new Response(this.releasing(res.body, release, abort), {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  }

  private async buffered(res: Response, release: Release): Promise<Response> {
    try {
      const body = await res.arrayBuffer();
      const empty = body.byteLength === 0 || res.status === 204 || res.status === 304;
      return new Response(empty ? null : body, {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      });
    } finally {
      release();
    }
  }

  /** the same bytes, as a web stream that releases the permit (and the connection) when it closes */
  private releasing(
    body: ReadableStream<Uint8Array>,
    release: Release,
    abort: AbortController,
  ): ReadableStream<Uint8Array> {
    const reader = body.getReader();
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            release();
            controller.close();
          } else controller.enqueue(value);
        } catch (err) {
          release();
          controller.error(err);
        }
      },
      cancel(reason) {
        release();
        abort.abort(reason);
        return reader.cancel(reason);
      },
    });
  }
}
