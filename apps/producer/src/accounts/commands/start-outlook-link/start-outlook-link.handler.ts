import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { OutlookAuthClient } from '@email-core/graph';
import { linkKeyHash } from '../../link-browser-cookie';
import { LinkUrls } from '../../link-urls';
import { OAuthStateStore } from '../../oauth-state.store';
import { StartOutlookLinkCommand, type StartOutlookLinkResult } from './start-outlook-link.command';

/** A fresh single-use state and PKCE pair; the verifier stays in Redis, only the URL goes back. */
@CommandHandler(StartOutlookLinkCommand)
export class StartOutlookLinkHandler implements ICommandHandler<StartOutlookLinkCommand> {
  constructor(
    private readonly auth: OutlookAuthClient,
    private readonly states: OAuthStateStore,
    private readonly urls: LinkUrls,
  ) {}

  async execute({ userId, browserKey }: StartOutlookLinkCommand): Promise<StartOutlookLinkResult> {
    const state = this.states.newState();
    const { url, codeVerifier } = await this.auth.authorizationUrl({
      state,
      redirectUri: this.urls.callback,
    });
    await this.states.put(state, {
      userId,
      codeVerifier,
      browserBinding: linkKeyHash(browserKey),
      createdAt: new Date().toISOString(),
    });
    return { url };
  }
}
