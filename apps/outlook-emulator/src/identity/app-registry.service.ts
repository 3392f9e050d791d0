import { Inject, Injectable } from '@nestjs/common';
import type { EmulatorConfig } from '@email-core/config';
import { EMULATOR_CONFIG } from '../core.module';

/** an app registration: a confidential client has a secret, a public client (SPA, desktop, CLI) has none */
export interface ClientApp {
  clientId: string;
  clientSecret?: string;
  redirectUris: string[];
}

/** what the admin API shows of an app: never its secret */
export interface ClientAppView {
  clientId: string;
  redirectUris: string[];
  confidential: boolean;
  demo: boolean;
}

export class AppRegistryError extends Error {}

/**
 * The client apps the identity endpoints accept. The demo app from configuration (EMULATOR_DEMO_CLIENT_*) is
 * always registered; tests and demos add more through `POST /_emulator/apps`.
 */
@Injectable()
export class AppRegistry {
  private readonly apps = new Map<string, ClientApp>();
  private readonly demo: ClientApp;

  constructor(@Inject(EMULATOR_CONFIG) config: Pick<EmulatorConfig, 'demoApp'>) {
    this.demo = {
      clientId: config.demoApp.clientId,
      clientSecret: config.demoApp.clientSecret,
      redirectUris: [...config.demoApp.redirectUris],
    };
    this.reset();
  }

  /** adds an app, or replaces the one with the same client id; the demo app cannot be replaced */
  register(app: ClientApp): ClientApp {
    if (app.clientId === this.demo.clientId) {
      throw new AppRegistryError(
        `'${app.clientId}' is the demo app from configuration and cannot be replaced`,
      );
    }
    const copy: ClientApp = {
      clientId: app.clientId,
      ...(app.clientSecret !== undefined ? { clientSecret: app.clientSecret } : {}),
      redirectUris: [...app.redirectUris],
    };
    this.apps.set(copy.clientId, copy);
    return copy;
  }

  get(clientId: string): ClientApp | undefined {
    return this.apps.get(clientId);
  }

  list(): ClientApp[] {
    return [...this.apps.values()];
  }

  view(app: ClientApp): ClientAppView {
    return {
      clientId: app.clientId,
      redirectUris: [...app.redirectUris],
      confidential: app.clientSecret !== undefined,
      demo: app.clientId === this.demo.clientId,
    };
  }

  /** back to the demo app alone */
  reset(): void {
    this.apps.clear();
    this.apps.set(this.demo.clientId, this.demo);
  }
}
