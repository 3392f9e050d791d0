import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { StatsService } from '../../faults/stats.service';
import { SUBSCRIPTION_SETTINGS, type SubscriptionSettings } from '../subscription-settings';
import { WebhookClient } from './webhook-client';

/**
 * Graph's tokens read like this one, spaces and colons included, so a receiver that does not URL-decode the
 * query (or decodes `+` wrongly) fails here as it would against Microsoft.
 */
export const newValidationToken = (): string =>
  `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;

/** the URL with `validationToken` appended; the URL's own query parameters stay exactly as they were */
export function validationUrl(url: string, token: string): string {
  const hash = url.indexOf('#');
  const base = hash >= 0 ? url.slice(0, hash) : url;
  const sep = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${sep}${new URLSearchParams({ validationToken: token }).toString()}`;
}

/**
 * The handshake Graph makes before it creates a subscription: `POST {url}?validationToken=...`, text/plain,
 * empty body; the endpoint must answer 200 with exactly the token within 10 seconds.
 */
@Injectable()
export class ValidationHandshake {
  constructor(
    private readonly client: WebhookClient,
    private readonly stats: StatsService,
    @Inject(SUBSCRIPTION_SETTINGS) private readonly settings: SubscriptionSettings,
  ) {}

  async validate(url: string, subscriptionId: string): Promise<boolean> {
    const token = newValidationToken();
    const res = await this.client.post({
      url: validationUrl(url, token),
      contentType: 'text/plain; charset=utf-8',
      body: '',
      timeoutMs: this.settings.validationTimeoutMs,
    });
    const ok = res.status === 200 && res.body === token;
    this.stats.recordDelivery({
      kind: 'validation',
      url,
      subscriptionIds: [subscriptionId],
      items: 0,
      status: res.status,
      latencyMs: Math.round(res.latencyMs),
      attempt: 1,
      outcome: ok ? 'delivered' : res.timedOut ? 'slow' : 'failed',
    });
    return ok;
  }
}
