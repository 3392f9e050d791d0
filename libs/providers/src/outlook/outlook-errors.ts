import {
  AccountTokensNotFoundError,
  GraphRequestError,
  GraphTransientError,
  OutlookAuthError,
  ReauthRequiredError as GraphReauthRequiredError,
  SubscriptionExpiryRejectedError,
  SyncStateNotFoundError,
  TokenRefreshTimeoutError,
} from '@email-core/graph';
import {
  CredentialsNotFoundError,
  CursorLostError,
  ProviderRefusedError,
  ProviderUnavailableError,
  ReauthRequiredError,
  WatchLifetimeRejectedError,
} from '../port';

/** The token failures libs/graph reports as a status-0 transient error named after them, in the port's words. */
const CREDENTIAL_CODES: Record<string, string> = {
  TokenRefreshTimeoutError: 'CredentialTimeout',
  AccountTokensNotFoundError: 'CredentialsNotFound',
  OutlookAuthError: 'AuthRefused',
};

/** Graph's and the token vault's failures as the port's errors; anything else unchanged. */
export function toProviderError(err: unknown): unknown {
  if (err instanceof SyncStateNotFoundError) return new CursorLostError(err.message);
  if (err instanceof GraphReauthRequiredError) return new ReauthRequiredError(err.reason, err.aadCode);
  if (err instanceof AccountTokensNotFoundError) return new CredentialsNotFoundError(err.accountId);
  if (err instanceof GraphRequestError) return new ProviderRefusedError(err.status, err.code, err.message);
  if (err instanceof GraphTransientError) {
    const code = err.status === 0 ? (CREDENTIAL_CODES[err.code] ?? err.code) : err.code;
    return new ProviderUnavailableError(err.status, code, err.message, err.retryAfterMs);
  }
  if (err instanceof TokenRefreshTimeoutError) {
    return new ProviderUnavailableError(0, 'CredentialTimeout', err.message);
  }
  if (err instanceof OutlookAuthError) return new ProviderUnavailableError(0, 'AuthRefused', err.message);
  if (err instanceof SubscriptionExpiryRejectedError) {
    return new WatchLifetimeRejectedError(err.maxMinutes, err.message);
  }
  return err;
}

/** Runs a Graph call, its failure translated into the port's errors. */
export async function outlookCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toProviderError(err);
  }
}
