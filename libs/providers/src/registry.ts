import type { FactoryProvider, InjectionToken } from '@nestjs/common';
import type { Mailbox, MailProvider, ProviderName } from './port';

/**
 * The `mail_accounts.provider` values the product knows. Adding a provider adds its name here and registers its
 * adapter at boot; a name here without an adapter fails the boot.
 */
export const MAIL_PROVIDER_NAMES = ['outlook', 'imap'] as const satisfies readonly ProviderName[];

/** An account's provider has no adapter in this process (a row written by a newer version, say). */
export class UnknownProviderError extends Error {
  constructor(readonly provider: string) {
    super(`no adapter is registered for mail provider '${provider}'`);
    this.name = 'UnknownProviderError';
  }
}

/** Every adapter of the process, keyed by provider: each use case picks the adapter of its account's provider. */
export class ProviderRegistry {
  private readonly byName = new Map<ProviderName, MailProvider>();

  /**
   * Throws (failing the boot) when two adapters claim one provider or when a provider of `expected` (by default
   * every provider the product knows) has no adapter.
   */
  constructor(adapters: Iterable<MailProvider>, expected: readonly ProviderName[] = MAIL_PROVIDER_NAMES) {
    for (const adapter of adapters) {
      if (this.byName.has(adapter.name)) {
        throw new Error(`two adapters are registered for mail provider '${adapter.name}'`);
      }
      this.byName.set(adapter.name, adapter);
    }
    const missing = expected.filter((name) => !this.byName.has(name));
    if (missing.length > 0) {
      throw new Error(`no adapter is registered for mail provider(s): ${missing.join(', ')}`);
    }
  }

  /** the adapter of a provider; `UnknownProviderError` when there is none */
  adapter(provider: ProviderName): MailProvider {
    const found = this.byName.get(provider);
    if (!found) throw new UnknownProviderError(provider);
    return found;
  }

  /** the mailbox of an account, through its provider's adapter */
  mailbox(account: { id: string; provider: ProviderName }): Mailbox {
    return this.adapter(account.provider).mailbox(account.id);
  }

  /** the registered provider names */
  names(): ProviderName[] {
    return [...this.byName.keys()];
  }
}

/**
 * A Nest provider of the `ProviderRegistry` built from the adapters bound under `adapters` (each an injection
 * token whose value is a `MailProvider`), e.g. `providerRegistry([OutlookProvider])`.
 */
export function providerRegistry(
  adapters: InjectionToken[],
  expected: readonly ProviderName[] = MAIL_PROVIDER_NAMES,
): FactoryProvider<ProviderRegistry> {
  return {
    provide: ProviderRegistry,
    inject: adapters,
    useFactory: (...built: MailProvider[]) => new ProviderRegistry(built, expected),
  };
}
