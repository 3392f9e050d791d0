export { isRetryableGraphStatus, retryAfterMs, RETRYABLE_GRAPH_STATUSES } from './retry-after';
export {
  ReauthRequiredError,
  SyncStateNotFoundError,
  GraphRequestError,
  GraphTransientError,
  OutlookAuthError,
  AccountTokensNotFoundError,
  TokenRefreshTimeoutError,
  type TokenSet,
  type LinkedIdentity,
  type AuthorizationRequest,
  type GraphRecipient,
  type GraphFolder,
  type GraphMessage,
  type GraphUser,
  type DeltaPage,
} from './types';
export {
  KeyedSemaphore,
  MAX_CONCURRENT_REQUESTS_PER_MAILBOX,
  sharedMailboxLimiter,
  type ClusterPermits,
  type Release,
} from './keyed-semaphore';
export {
  ClusterMailboxPermits,
  DEFAULT_CLUSTER_PERMITS_OPTIONS,
  type ClusterMailboxPermitsOptions,
} from './cluster-mailbox-permits';
export { type AccessTokenProvider, type FetchLike, type RetryPolicy } from './graph-middleware';
export { type GraphRequestObserver } from './graph-request-observer';
export { MESSAGE_SELECT, mapDeltaResponse, mapGraphMessage, toGraphFailure } from './graph-mapping';
export {
  DEFAULT_RETRY_POLICY,
  GraphMailClient,
  WELL_KNOWN_FOLDERS,
  type DeltaStart,
  type GraphMailClientOptions,
} from './graph-mail-client';
export {
  OutlookAuthClient,
  mapMsalError,
  refreshTokenFromCache,
  type OutlookAuthClientOptions,
} from './outlook-auth-client';
export { RedisLock, type HeldLock } from '@email-core/cache';
export {
  DEFAULT_TOKEN_VAULT_OPTIONS,
  TokenVault,
  type ReauthRequiredEvent,
  type ReauthRequiredListener,
  type TokenRefresher,
  type TokenVaultOptions,
} from './token-vault';
export {
  GRAPH_LIB_OPTIONS,
  GraphClientFactory,
  GraphLibModule,
  type GraphLibModuleOptions,
} from './graph.module';
export {
  GraphSubscriptionsClient,
  SubscriptionExpiryRejectedError,
  type GraphSubscription,
  type NewGraphSubscription,
} from './graph-subscriptions-client';
export { type UnlinkedSealedTokens } from './token-vault';
export {
  GraphAttachmentsClient,
  type GraphAttachmentContent,
  type GraphAttachmentInfo,
} from './graph-attachments-client';
export {
  GraphMailActionsClient,
  type GraphFlagStatus,
  type OutgoingAttachment,
  type OutgoingMail,
  type OutgoingRecipient,
} from './graph-mail-actions-client';
export {
  GraphUploadSessions,
  UPLOAD_SESSION_CHUNK_BYTES,
  type LargeAttachment,
  type UploadSessionOptions,
} from './graph-upload-sessions';
