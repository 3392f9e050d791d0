import {
  CredentialsNotFoundError,
  ProviderRegistry,
  type CredentialVault,
  type Mailbox,
  type MailboxWatch,
  type MailboxWatching,
  type MailProvider,
  type WatchKind,
} from '@email-core/providers';

/** A provider part a test does not script: any call fails loudly. */
const unscripted = (what: string) => (): never => {
  throw new Error(`${what} is not scripted in this test`);
};

/** A vault that holds nothing (tests whose provider needs no credentials). */
export const emptyVault: CredentialVault = {
  seal: unscripted('vault.seal'),
  credentialFor: () => Promise.reject(new Error('no credentials in this test')),
  credentialFromSealed: () => Promise.reject(new Error('no credentials in this test')),
  forget: () => undefined,
};

/**
 * An adapter whose mailboxes are the test's own objects (the parts of the port it scripts: a reader, actions, a
 * watch), for the provider `name` ('outlook' by default, the accounts' default provider).
 */
export function scriptedProvider(
  mailboxOf: (accountId: string) => Partial<Mailbox>,
  opts: { name?: string; watching?: WatchKind; unlinkedWatch?: (accountId: string) => MailboxWatch } = {},
): MailProvider {
  return {
    name: opts.name ?? 'outlook',
    watching: opts.watching ?? 'channels',
    mailbox: (accountId) => mailboxOf(accountId) as Mailbox,
    watchOfUnlinked: (account) =>
      (opts.unlinkedWatch ?? unscripted('the watch of an unlinked account'))(account.accountId),
    vault: emptyVault,
  };
}

/** A registry holding only `scriptedProvider(mailboxOf)` as 'outlook' (the only provider it expects). */
export function scriptedRegistry(mailboxOf: (accountId: string) => Partial<Mailbox>): ProviderRegistry {
  return new ProviderRegistry([scriptedProvider(mailboxOf)], ['outlook']);
}

/**
 * The adapter without its watch: every channel call fails as for an account without stored credentials, as the
 * watchers of the int-specs' accounts always did before their adapter came from the registry (they keep out of
 * the way: no subscription is made at the provider, no catch-up round follows one).
 */
export function withoutWatch(provider: MailProvider): MailProvider {
  const refuse = (): Promise<never> =>
    Promise.reject(new CredentialsNotFoundError('the watch is left out of this test'));
  // a provider watched over its own connection has no channels to refuse: its watch stays what it is
  const watch: MailboxWatching =
    provider.watching === 'connection'
      ? { kind: 'connection' }
      : { kind: 'channels', scope: 'none', list: refuse, open: refuse, renew: refuse, close: refuse };
  return {
    name: provider.name,
    watching: provider.watching,
    vault: provider.vault,
    watchOfUnlinked: () => watch,
    mailbox: (accountId) =>
      new Proxy(provider.mailbox(accountId), {
        get: (target, key, receiver): unknown =>
          key === 'watch' ? watch : (Reflect.get(target, key, receiver) as unknown),
      }),
  };
}
