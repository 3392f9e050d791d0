import { Inject, Injectable, Optional } from '@nestjs/common';
import type { ProducerConfig } from '@email-core/config';
import { ProviderMetrics } from '@email-core/metrics';
import {
  checkMailAccountSettings,
  mailRequestCounters,
  type ImapAccountSettings,
  type ImapRequestCounter,
} from '@email-core/providers';
import { PRODUCER_CONFIG } from '../config.module';

/**
 * Tries the settings before anything is stored: an IMAP login and an SMTP AUTH, both through the SSRF guard.
 * Resolves when both servers took the logins; otherwise throws `MailLinkCheckError` naming what failed. An
 * abstract class, so the handler's specs can put a fake in its place.
 */
export abstract class ImapLinkProbe {
  abstract check(settings: ImapAccountSettings): Promise<void>;
}

/**
 * The real probe: the servers themselves, under the deployment's host policy (`IMAP_ALLOW_PRIVATE_HOSTS`,
 * `IMAP_CA_FILE`); the IMAP login attempt is counted in `email_core_provider_requests_total{provider="imap"}`.
 */
@Injectable()
export class MailServerLinkProbe extends ImapLinkProbe {
  private readonly imapRequests: ImapRequestCounter | undefined;

  constructor(
    @Inject(PRODUCER_CONFIG) private readonly config: ProducerConfig,
    @Optional() metrics?: ProviderMetrics,
  ) {
    super();
    this.imapRequests = metrics ? mailRequestCounters(metrics).imap : undefined;
  }

  check(settings: ImapAccountSettings): Promise<void> {
    return checkMailAccountSettings(
      settings,
      this.config.imap,
      this.imapRequests ? { imapRequests: this.imapRequests } : {},
    );
  }
}
