import { randomUUID } from 'node:crypto';
import type { Mailbox } from '../../store/model';
import type { Caller, Subscription } from '../domain/subscription';
import type { SubscriptionSettings } from '../subscription-settings';
import type { WebhookRequest, WebhookResponse } from '../delivery/webhook-client';

/** test data for the subscription specs */

export const settingsFactory = (overrides: Partial<SubscriptionSettings> = {}): SubscriptionSettings => ({
  maxMinutes: 4230,
  maxPerMailbox: 1000,
  strictNotificationUrls: false,
  validationTimeoutMs: 10000,
  batchWindowMs: 50,
  batchMaxItems: 100,
  deliveryTimeoutMs: 3000,
  slowMs: 2900,
  retryBaseMs: 1000,
  retryMaxMs: 60000,
  maxAttempts: 4,
  reauthorizeBeforeMinutes: 0,
  ...overrides,
});

export const callerFactory = (mailbox: Mailbox, overrides: Partial<Caller> = {}): Caller => ({
  mailbox,
  appId: 'app-1',
  userId: mailbox.userId,
  tenantId: mailbox.tenantId,
  ...overrides,
});

export const subscriptionFactory = (
  mailbox: Mailbox,
  overrides: Partial<Subscription> = {},
): Subscription => ({
  id: randomUUID(),
  mailbox,
  resource: 'me/messages',
  folder: null,
  changeTypes: new Set(['created', 'updated', 'deleted'] as const),
  clientState: 'secret-state',
  notificationUrl: 'http://127.0.0.1:9/notify',
  lifecycleNotificationUrl: 'http://127.0.0.1:9/lifecycle',
  expiresAt: Date.now() + 60 * 60_000,
  applicationId: 'app-1',
  creatorId: mailbox.userId,
  tenantId: mailbox.tenantId,
  latestSupportedTlsVersion: 'v1_2',
  immutableIds: false,
  needsReauthorization: false,
  reauthorizationSent: false,
  delivered: 0,
  ...overrides,
});

/**
 * A WebhookClient stand-in (no jest globals: this file is part of the build's type-check): answers from
 * `respond`, and records every request with its parsed JSON body and the time it was made.
 */
export function fakeWebhookClient(respond: (req: WebhookRequest) => Partial<WebhookResponse> = () => ({})) {
  const requests: (WebhookRequest & { json: unknown; at: number })[] = [];
  const post = (req: WebhookRequest): Promise<WebhookResponse> => {
    const json: unknown = req.contentType.startsWith('application/json') ? JSON.parse(req.body) : undefined;
    requests.push({ ...req, json, at: Date.now() });
    return Promise.resolve({ status: 202, body: '', latencyMs: 5, timedOut: false, ...respond(req) });
  };
  return { post, requests };
}

/** answers a validation request the way a correct receiver does: 200 with the decoded token */
export const echoValidationToken = (req: WebhookRequest): Partial<WebhookResponse> => {
  const token = new URL(req.url).searchParams.get('validationToken');
  return token === null ? {} : { status: 200, body: token };
};
