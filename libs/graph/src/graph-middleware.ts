import { GraphClientError, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import type { GraphRequestObserver } from './graph-request-observer';
import type { KeyedSemaphore } from './keyed-semaphore';
import { isRetryableGraphStatus, retryAfterMs } from './retry-after';

/** Supplies the bearer token; `forceRefresh` after Graph answered 401 to the token it was given. */
export type AccessTokenProvider = (opts?: { forceRefresh?: boolean }) => Promise<string>;

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

interface PolicyContext extends Context {
  /** set by the retry handler after a 401 so the next attempt asks for a new token */
  forceTokenRefresh?: boolean;
}

const IMMUTABLE_ID = 'IdType="ImmutableId"';

/**
 * The token provider failed (the vault's `ReauthRequiredError`, `AccountTokensNotFoundError`, a refresh timeout,
 * the identity platform's trouble): no request left the process. It travels through the SDK as a
 * `GraphClientError`, the one kind the SDK rethrows as it is (anything else becomes a status -1 `GraphError` that
 * keeps only the message and the name), so `toGraphFailure` can hand the caller the original error.
 */
export class AccessTokenFailure extends GraphClientError {
  constructor(readonly original: Error) {
    super(original.message);
    // the SDK's constructor pins its own prototype: restore this subclass's
    Object.setPrototypeOf(this, AccessTokenFailure.prototype);
    this.name = 'AccessTokenFailure';
  }
}

function requestUrl(context: Context): string {
  // `RequestInfo` (a DOM type) does not resolve under this project's libs: read it structurally
  const request = context.request as unknown;
  return typeof request === 'string' ? request : (request as { url: string }).url;
}

/** The request's headers as a plain object (the SDK builds them as one; `Headers` and pairs are accepted too). */
function plainHeaders(context: Context): Record<string, string> {
  const headers = context.options?.headers as unknown;
  if (!headers) return {};
  if (headers instanceof Headers) return Object.fromEntries(headers.entries());
  if (Array.isArray(headers)) return Object.fromEntries(headers as Array<[string, string]>);
  return { ...(headers as Record<string, string>) };
}

function setHeader(context: Context, name: string, value: string): void {
  const plain = plainHeaders(context);
  for (const key of Object.keys(plain)) if (key.toLowerCase() === name.toLowerCase()) delete plain[key];
  plain[name] = value;
  context.options = { ...context.options, headers: plain };
}

function getHeader(context: Context, name: string): string | undefined {
  return Object.entries(plainHeaders(context)).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface RetryPolicy {
  /** attempts per request for 429/503/504 (and network failures of GETs), the first included */
  maxAttempts: number;
  /** the wait when Graph sends no `Retry-After`: base × 2^(retry − 1) */
  backoffBaseMs: number;
  /**
   * The longest `Retry-After` waited out in-process. A longer one is not cut short: the error goes to the
   * caller with `retryAfterMs`, so it can reschedule the work (a Kafka retry) instead of parking a worker.
   */
  maxRetryDelayMs: number;
}

/**
 * Outermost: retries 429/503 (and 504, except for a POST) honouring `Retry-After` (bounded attempts), retries once with a fresh token
 * after a 401, and retries network failures of idempotent GETs with backoff. Nothing is held while it waits.
 */
export class RetryAfterHandler implements Middleware {
  private next?: Middleware;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly wait: (ms: number) => Promise<void> = sleep,
    private readonly observer?: GraphRequestObserver,
  ) {}

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: PolicyContext): Promise<void> {
    if (!this.next) throw new Error('RetryAfterHandler needs a next middleware');
    const method = (context.options?.method ?? 'GET').toUpperCase();
    let authRetried = false;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.next.execute(context);
      } catch (err) {
        // no token, no request: asking the token provider again at once would not help (a dead grant stays dead)
        if (err instanceof AccessTokenFailure) throw err;
        // network failure or timeout: only a GET is safe to send again
        if (method !== 'GET' || attempt >= this.policy.maxAttempts) throw err;
        await this.wait(this.backoff(attempt));
        continue;
      }
      const response = context.response;
      if (!response) return;
      if (response.status === 401 && !authRetried) {
        authRetried = true;
        context.forceTokenRefresh = true;
        attempt--; // a stale token is not a throttling attempt
        continue;
      }
      // A 504 means the gateway gave up waiting, not that the work was not done: a POST (sendMail, reply, send,
      // move) may already have happened, so only requests that are safe to repeat retry it.
      const retryable =
        isRetryableGraphStatus(response.status) && !(response.status === 504 && method === 'POST');
      if (!retryable || attempt >= this.policy.maxAttempts) return;
      const delay = retryAfterMs(response.headers.get('retry-after'), {
        fallbackMs: this.backoff(attempt),
        maxMs: 24 * 3600 * 1000,
      });
      if (delay > this.policy.maxRetryDelayMs) return;
      this.observer?.retryWait(delay / 1000);
      await this.wait(delay);
    }
  }

  private backoff(attempt: number): number {
    return Math.min(this.policy.backoffBaseMs * 2 ** (attempt - 1), this.policy.maxRetryDelayMs);
  }
}

/**
 * Sends requests only to the configured Graph host (a nextLink pointing anywhere else is refused, so a token
 * never leaves for another host), adds the bearer token and `Prefer: IdType="ImmutableId"` to every request.
 */
export class GraphRequestPolicyHandler implements Middleware {
  private next?: Middleware;

  constructor(
    private readonly graphOrigin: string,
    private readonly getAccessToken: AccessTokenProvider,
  ) {}

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: PolicyContext): Promise<void> {
    if (!this.next) throw new Error('GraphRequestPolicyHandler needs a next middleware');
    const url = requestUrl(context);
    if (new URL(url).origin !== this.graphOrigin) {
      throw new Error(`refusing to send a Graph request outside ${this.graphOrigin}`);
    }
    const forceRefresh = context.forceTokenRefresh === true;
    context.forceTokenRefresh = false;
    let token: string;
    try {
      token = await this.getAccessToken(forceRefresh ? { forceRefresh: true } : undefined);
    } catch (err) {
      throw new AccessTokenFailure(err instanceof Error ? err : new Error(String(err)));
    }
    setHeader(context, 'Authorization', `Bearer ${token}`);
    const prefer = getHeader(context, 'Prefer');
    if (!prefer) setHeader(context, 'Prefer', IMMUTABLE_ID);
    else if (!/IdType\s*=/i.test(prefer)) setHeader(context, 'Prefer', `${prefer}, ${IMMUTABLE_ID}`);
    await this.next.execute(context);
  }
}

/** Holds one permit of the mailbox's semaphore for the whole exchange (request sent to body received). */
export class MailboxLimitHandler implements Middleware {
  private next?: Middleware;

  constructor(
    private readonly limiter: KeyedSemaphore,
    private readonly mailboxKey: string,
    private readonly observer?: GraphRequestObserver,
  ) {}

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: Context): Promise<void> {
    if (!this.next) throw new Error('MailboxLimitHandler needs a next middleware');
    const next = this.next;
    await this.limiter.run(this.mailboxKey, () => {
      this.observer?.started(this.limiter.stats(this.mailboxKey).active);
      return next.execute(context);
    });
  }
}

/**
 * Last: the HTTP exchange itself, with a timeout, and the body read completely before it returns, so the
 * mailbox permit covers the whole response (Outlook counts a request as in flight until it has been answered).
 */
export class FetchHandler implements Middleware {
  constructor(
    private readonly fetchImpl: FetchLike,
    private readonly timeoutMs: number,
    private readonly observer?: GraphRequestObserver,
  ) {}

  async execute(context: Context): Promise<void> {
    const init: RequestInit = {
      ...(context.options as RequestInit),
      signal: AbortSignal.timeout(this.timeoutMs),
    };
    let res: Response;
    let body: ArrayBuffer;
    try {
      res = await this.fetchImpl(requestUrl(context), init);
      body = await res.arrayBuffer();
    } catch (err) {
      this.observer?.failed();
      throw err;
    }
    this.observer?.answered(res.status);
    const empty = body.byteLength === 0 || res.status === 204 || res.status === 304;
    context.response = new Response(empty ? null : body, {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  }
}
