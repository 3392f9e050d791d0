import type { AccountForSync } from '@email-core/database';

/** The database's default provider, for an account row read without its `provider` (older fakes, tests). */
export const DEFAULT_PROVIDER = 'outlook';

/** The account as the provider registry keys it: its id and its `mail_accounts.provider`. */
export function providerOf(account: Pick<AccountForSync, 'id' | 'provider'>): {
  id: string;
  provider: string;
} {
  return { id: account.id, provider: account.provider ?? DEFAULT_PROVIDER };
}
