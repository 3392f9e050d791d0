import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { MailboxStore } from '../../store/mailbox-store';
import type { FolderRecord, Mailbox } from '../../store/model';
import type { Caller, Subscription } from '../domain/subscription';
import { SubscriptionRepository } from '../domain/subscription.repository';
import {
  accessDenied,
  folderNotFound,
  tooManySubscriptions,
  validationFailed,
} from '../domain/subscription-errors';
import { parseCreateRequest } from '../domain/subscription-rules';
import { ValidationHandshake } from '../delivery/validation-handshake';
import { SUBSCRIPTION_SETTINGS, type SubscriptionSettings } from '../subscription-settings';

/** what `POST /subscriptions` took from its headers besides the body */
export interface CreateSubscriptionOptions {
  /** `Prefer: IdType="ImmutableId"` was sent: the subscription's notifications carry immutable ids */
  immutableIds?: boolean;
}

/** `POST /subscriptions`: check the request, validate both endpoints, then store the subscription */
@Injectable()
export class CreateSubscriptionHandler {
  constructor(
    private readonly repo: SubscriptionRepository,
    private readonly store: MailboxStore,
    private readonly handshake: ValidationHandshake,
    @Inject(SUBSCRIPTION_SETTINGS) private readonly settings: SubscriptionSettings,
  ) {}

  async execute(
    caller: Caller,
    body: unknown,
    options: CreateSubscriptionOptions = {},
  ): Promise<Subscription> {
    const s = this.settings;
    const req = parseCreateRequest(body, {
      now: Date.now(),
      maxMinutes: s.maxMinutes,
      strictNotificationUrls: s.strictNotificationUrls,
    });
    // delegated permissions reach only the signed-in user's own mailbox
    if (req.target.user !== null && this.store.findUser(req.target.user) !== caller.mailbox)
      throw accessDenied();
    let folder: FolderRecord | null = null;
    if (req.target.folder !== null) {
      folder = this.store.resolveFolder(caller.mailbox, req.target.folder) ?? null;
      if (!folder) throw folderNotFound();
    }
    this.checkLimit(caller.mailbox);
    const id = randomUUID();
    const urls = [req.notificationUrl, req.lifecycleNotificationUrl].filter((u): u is string => u !== null);
    const valid = await Promise.all(urls.map((url) => this.handshake.validate(url, id)));
    if (!valid.every(Boolean)) throw validationFailed();
    this.checkLimit(caller.mailbox);
    const sub: Subscription = {
      id,
      mailbox: caller.mailbox,
      resource: req.resource,
      folder,
      changeTypes: new Set(req.changeTypes),
      clientState: req.clientState,
      notificationUrl: req.notificationUrl,
      lifecycleNotificationUrl: req.lifecycleNotificationUrl,
      expiresAt: req.expiresAt,
      applicationId: caller.appId,
      creatorId: caller.userId,
      tenantId: caller.tenantId,
      latestSupportedTlsVersion: req.latestSupportedTlsVersion,
      immutableIds: options.immutableIds ?? false,
      needsReauthorization: false,
      reauthorizationSent: false,
      delivered: 0,
    };
    this.repo.add(sub);
    return sub;
  }

  /** at most 1,000 active subscriptions per mailbox, across all apps */
  private checkLimit(mailbox: Mailbox): void {
    if (this.repo.activeOn(mailbox, Date.now()).length >= this.settings.maxPerMailbox) {
      throw tooManySubscriptions(this.settings.maxPerMailbox);
    }
  }
}
