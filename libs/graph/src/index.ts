export { isRetryableGraphStatus, retryAfterMs, RETRYABLE_GRAPH_STATUSES } from './retry-after';
export {
  ReauthRequiredError,
  SyncStateNotFoundError,
  GraphRequestError,
  type TokenSet,
  type LinkedIdentity,
  type AuthorizationRequest,
  type GraphRecipient,
  type GraphFolder,
  type GraphMessage,
  type DeltaPage,
} from './types';
