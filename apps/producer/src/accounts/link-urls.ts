import { Inject, Injectable } from '@nestjs/common';
import type { ProducerConfig } from '@email-core/config';
import { PRODUCER_CONFIG } from '../config.module';

/** The addresses of the linking flow, all under the deployment's public base URL. */
@Injectable()
export class LinkUrls {
  constructor(@Inject(PRODUCER_CONFIG) private readonly config: ProducerConfig) {}

  /** Where Microsoft sends the browser back; must equal a redirect URI of the app registration. */
  get callback(): string {
    return `${this.config.publicBaseUrl}/api/v1/accounts/outlook/callback`;
  }

  /** The dashboard's accounts page, told which account was just linked (an id, never a token). */
  dashboardLinked(accountId: string): string {
    return `${this.config.publicBaseUrl}/#/accounts?linked=${encodeURIComponent(accountId)}`;
  }

  /** The dashboard's accounts page, told why linking failed (a stable code, explained by the page). */
  dashboardLinkError(code: string): string {
    return `${this.config.publicBaseUrl}/#/accounts?linkError=${encodeURIComponent(code)}`;
  }

  /** cookies of the flow are `Secure` when the API is served over HTTPS */
  get secureCookies(): boolean {
    return this.config.publicBaseUrl.startsWith('https:');
  }
}
