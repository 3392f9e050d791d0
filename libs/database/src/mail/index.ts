export {
  holdsTree,
  MailFoldersRepository,
  type DroppedMessage,
  type CountSettlement,
  type FolderCountDelta,
  type FolderCountsRow,
  type FolderLinks,
  type FolderSyncState,
  type PageSettlement,
  type UpsertFoldersOptions,
  type UpsertFoldersResult,
} from './mail-folders.repository';
export { MessagesRepository, type AppliedPage } from './messages.repository';
export {
  MailAccountSyncRepository,
  type AccountForSync,
  type MailAccountStatus,
} from './mail-account-sync.repository';
export { type DeltaPageInput, type FolderInput, type MessageInput, type RecipientInput } from './mail-rows';
