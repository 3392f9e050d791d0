import type { Client, GraphRequest } from '@microsoft/microsoft-graph-client';
import { GraphMailClient, type GraphMailClientOptions } from './graph-mail-client';
import { toGraphFailure, type RawCollection } from './graph-mapping';
import { GraphRequestError } from './types';

/** A Graph change-notification subscription as Graph lists it (the fields the product reads). */
export interface GraphSubscription {
  id: string;
  resource: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  expirationDateTime: Date;
}

export interface NewGraphSubscription {
  /** e.g. `me/messages` (no base URL) */
  resource: string;
  /** comma list of `created`, `updated`, `deleted` */
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string;
  /** at most 128 characters; Graph echoes it in every notification */
  clientState: string;
  expirationDateTime: Date;
}

/**
 * Graph refused the asked-for expiry as beyond its cap (a real answer: `400 ExtensionError` "Subscription
 * expiration can only be 4230 minutes in the future."). `maxMinutes` is the cap when the message states it.
 */
export class SubscriptionExpiryRejectedError extends Error {
  constructor(
    readonly maxMinutes: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'SubscriptionExpiryRejectedError';
  }
}

interface RawSubscription {
  id: string;
  resource?: string;
  changeType?: string;
  notificationUrl?: string;
  lifecycleNotificationUrl?: string | null;
  expirationDateTime: string;
}

const toSubscription = (r: RawSubscription): GraphSubscription => ({
  id: r.id,
  resource: r.resource ?? '',
  changeType: r.changeType ?? '',
  notificationUrl: r.notificationUrl ?? '',
  lifecycleNotificationUrl: r.lifecycleNotificationUrl ?? null,
  expirationDateTime: new Date(r.expirationDateTime),
});

const CAP_IN_MESSAGE = /expiration can only be (\d+) minutes/i;

/** A 400 about the expiry (Graph's words vary: ExtensionError, InvalidRequest, ErrorInvalidParameter). */
function expiryRejection(err: unknown): SubscriptionExpiryRejectedError | null {
  if (!(err instanceof GraphRequestError) || err.status !== 400) return null;
  const cap = CAP_IN_MESSAGE.exec(err.message);
  if (cap) return new SubscriptionExpiryRejectedError(Number(cap[1]), err.message);
  if (err.code === 'ExtensionError' && /expiration/i.test(err.message))
    return new SubscriptionExpiryRejectedError(undefined, err.message);
  return null;
}

const IMMUTABLE_IDS = 'IdType="ImmutableId"';

/**
 * Graph change-notification subscriptions of one mailbox (`/subscriptions`), through the same SDK client and
 * middleware as the mail calls (bearer token from the vault, retries honouring `Retry-After`, the per-mailbox
 * limit). Errors come out as `GraphRequestError` / `GraphTransientError`; a `clientState` is only ever sent,
 * never logged or returned.
 */
export class GraphSubscriptionsClient {
  constructor(private readonly sdk: Client) {}

  /** A client with its own middleware chain, e.g. with a token that no longer lives in the vault. */
  static create(options: GraphMailClientOptions): GraphSubscriptionsClient {
    return new GraphSubscriptionsClient(new GraphMailClient(options).sdk);
  }

  /** The app's subscriptions for the signed-in user (`GET /subscriptions`, every page). */
  async list(): Promise<GraphSubscription[]> {
    const out: GraphSubscription[] = [];
    let page = await this.send<RawCollection<RawSubscription>>(this.sdk.api('/subscriptions'), 'get');
    for (;;) {
      out.push(...(page.value ?? []).map(toSubscription));
      const next = page['@odata.nextLink'];
      if (!next) return out;
      page = await this.send<RawCollection<RawSubscription>>(this.sdk.api(next), 'get');
    }
  }

  /**
   * `POST /subscriptions` with `Prefer: IdType="ImmutableId"`, so its notifications name messages by the
   * immutable ids the mirror stores. Graph validates both URLs before it answers. An expiry beyond the cap
   * raises `SubscriptionExpiryRejectedError`.
   */
  async create(input: NewGraphSubscription): Promise<GraphSubscription> {
    const body = {
      changeType: input.changeType,
      notificationUrl: input.notificationUrl,
      lifecycleNotificationUrl: input.lifecycleNotificationUrl,
      resource: input.resource,
      expirationDateTime: input.expirationDateTime.toISOString(),
      clientState: input.clientState,
    };
    try {
      const raw = await this.send<RawSubscription>(
        this.sdk.api('/subscriptions').header('Prefer', IMMUTABLE_IDS),
        'post',
        body,
      );
      return toSubscription(raw);
    } catch (err) {
      throw expiryRejection(err) ?? err;
    }
  }

  /**
   * `PATCH /subscriptions/{id}` with a new expiry. Null when Graph no longer has it (404: removed or expired).
   * An expiry beyond the cap raises `SubscriptionExpiryRejectedError`.
   */
  async renew(id: string, expiresAt: Date): Promise<GraphSubscription | null> {
    try {
      const raw = await this.send<RawSubscription>(
        this.sdk.api(`/subscriptions/${encodeURIComponent(id)}`),
        'patch',
        { expirationDateTime: expiresAt.toISOString() },
      );
      return toSubscription(raw);
    } catch (err) {
      if (err instanceof GraphRequestError && err.status === 404) return null;
      throw expiryRejection(err) ?? err;
    }
  }

  /** `DELETE /subscriptions/{id}`; false when it was already gone (404). */
  async delete(id: string): Promise<boolean> {
    try {
      await this.send(this.sdk.api(`/subscriptions/${encodeURIComponent(id)}`), 'delete');
      return true;
    } catch (err) {
      if (err instanceof GraphRequestError && err.status === 404) return false;
      throw err;
    }
  }

  private async send<T>(
    request: GraphRequest,
    method: 'get' | 'post' | 'patch' | 'delete',
    body?: unknown,
  ): Promise<T> {
    try {
      switch (method) {
        case 'get':
          return (await request.get()) as T;
        case 'post':
          return (await request.post(body)) as T;
        case 'patch':
          return (await request.patch(body)) as T;
        case 'delete':
          return (await request.delete()) as T;
      }
    } catch (err) {
      throw toGraphFailure(err);
    }
  }
}
