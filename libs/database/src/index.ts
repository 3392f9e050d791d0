export { createDataSource, entities, type DataSourceOptions } from './data-source';
export { runMigrationsLocked } from './migrate';
export { migrations } from './migrations';
export { OutboxEntity } from './outbox/outbox.entity';
export {
  OutboxRepository,
  type OutboxMessage,
  type OutboxPublishOutcome,
  type PendingOutboxMessage,
} from './outbox/outbox.repository';
export {
  MailAccountsRepository,
  type LinkedAccountInput,
  type MailAccountSummary,
  type UpsertLinkedResult,
} from './accounts/mail-accounts.repository';
export {
  UsersRepository,
  type CreateUserResult,
  type SetRoleResult,
  type UserAuthority,
  type UserCredentials,
  type UserRecord,
  type UserRole,
} from './users/users.repository';
export {
  RefreshSessionsRepository,
  type NewRefreshSession,
  type RotateResult,
} from './users/refresh-sessions.repository';
export { DatabaseModule, DatabaseState, type DatabaseModuleOptions } from './database.module';
export {
  MailAccountTokensRepository,
  type SealedTokenColumns,
  type StoredAccountTokens,
} from './accounts/mail-account-tokens.repository';
export { MailReadRepository } from './mail-read/mail-read.repository';
export { decodeMessageCursor, encodeMessageCursor } from './mail-read/message-cursor';
export type { MessagePageRequest } from './mail-read/message-page-sql';
export {
  CONVERSATION_IDS_LIMIT,
  CONVERSATION_READ_LIMIT,
  type ConversationPageRequest,
} from './mail-read/conversation-sql';
export type {
  ConversationPageView,
  ConversationSummaryView,
  ConversationView,
  FolderView,
  MailReadError,
  MailReadScope,
  MessageBodyView,
  MessageCursorKey,
  MessageDetailView,
  MessageListFilter,
  MessagePageView,
  MessageSummaryView,
  ReadResult,
  RecipientView,
} from './mail-read/mail-read.types';
export {
  holdsTree,
  MailAccountSyncRepository,
  MailFoldersRepository,
  MessagesRepository,
  type AccountForSync,
  type AppliedPage,
  type DeltaPageInput,
  type FolderInput,
  type FolderLinks,
  type FolderSyncState,
  type MailAccountStatus,
  type MessageInput,
  type RecipientInput,
  type UpsertFoldersResult,
} from './mail';
export {
  GraphSubscriptionsRepository,
  type StoredSubscription,
  type SubscriptionOverview,
  type SubscriptionRemoval,
  type SubscriptionRoute,
} from './live/graph-subscriptions.repository';
export { MailChangesRepository, type ChangesSince, type NewMailChange } from './live/mail-changes.repository';
export {
  MailCommandsRepository,
  type CreateCommandResult,
  type DraftOrigin,
  type MailCommandView,
  type NewMailCommand,
  type StoredMailCommand,
} from './commands/mail-commands.repository';
export {
  CommandUploadsRepository,
  type AppendChunkResult,
  type CommandUploadView,
  type NewCommandUpload,
  type NewUploadSession,
} from './commands/command-uploads.repository';
export {
  MailCommandBatchesRepository,
  type CommandBatchView,
  type CreateBatchResult,
  type NewCommandBatch,
} from './commands/mail-command-batches.repository';
export {
  CommandAttachmentsRepository,
  type AttachmentToSend,
  type StoredCommandAttachment,
} from './commands/command-attachments.repository';
export {
  DEFAULT_READ_REPLICA_OPTIONS,
  ReadReplica,
  isReplicaFailure,
  type ReadReplicaOptions,
  type ReadReplicaStatus,
  type ReadSide,
  type Watermark,
} from './read-replica/read-replica';
export { currentWalPosition, parseWatermark, recordAccountWrite } from './read-replica/account-writes';
export { formatLsn, parseLsn } from './read-replica/lsn';
export { inGenericPlanTransaction, type CommittedWithPosition } from './generic-plan-transaction';
export {
  MAIL_ACCOUNT_STATUSES,
  OperationalCountsRepository,
  type OutboxBacklog,
  type SubscriptionExpiry,
} from './metrics/operational-counts.repository';
