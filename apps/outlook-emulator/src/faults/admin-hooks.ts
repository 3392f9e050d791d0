import { Injectable } from '@nestjs/common';

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

/**
 * How the admin API reaches the parts of the emulator it does not own (tokens, subscriptions) without
 * depending on their modules: each part registers what it offers when it starts.
 */
@Injectable()
export class AdminHooks {
  private readonly resets: (() => void)[] = [];
  revokeRefreshTokens?: (address: string) => number;
  fireLifecycle?: (subscriptionId: string, event: LifecycleEvent) => Promise<unknown>;
  issueAccessToken?: (input: { address: string; clientId?: string; scopes?: string[] }) => {
    access_token: string;
    expires_in: number;
  };

  onReset(fn: () => void): void {
    this.resets.push(fn);
  }

  reset(): void {
    for (const fn of this.resets) fn();
  }
}
