import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { ConsumerConfig } from '@email-core/config';
import { CONSUMER_CONFIG } from '../messaging/messaging.tokens';

/**
 * Microsoft only delivers notifications to https URLs, so against real Microsoft (graph.microsoft.com)
 * `PUBLIC_BASE_URL` must be the https tunnel (ngrok) in front of the producer. The emulator takes http on
 * loopback, so there it is fine. Returns the warning to log, or null.
 */
export function publicUrlWarning(config: Pick<ConsumerConfig, 'microsoft' | 'subscriptions'>): string | null {
  const graphHost = new URL(config.microsoft.graphBaseUrl).hostname.toLowerCase();
  const realMicrosoft = graphHost === 'graph.microsoft.com' || graphHost.endsWith('.graph.microsoft.com');
  if (!realMicrosoft) return null;
  if (new URL(config.subscriptions.publicBaseUrl).protocol === 'https:') return null;
  return (
    `PUBLIC_BASE_URL is ${config.subscriptions.publicBaseUrl}, but Microsoft Graph only delivers change ` +
    `notifications to https URLs: subscriptions will fail. Set it to your public https tunnel (e.g. ngrok).`
  );
}

/** Logs `publicUrlWarning` once at startup. */
@Injectable()
export class PublicUrlCheck implements OnApplicationBootstrap {
  constructor(@Inject(CONSUMER_CONFIG) private readonly config: ConsumerConfig) {}

  onApplicationBootstrap(): void {
    const warning = publicUrlWarning(this.config);
    if (warning) new Logger('Subscriptions').warn(warning);
  }
}
