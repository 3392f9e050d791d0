export {
  MemoryMailbox,
  MemoryMailboxError,
  type MailboxChange,
  type MemoryAddress,
  type MemoryAttachment,
  type MemoryFolder,
  type MemoryMessage,
  type MessagePatch,
  type NewMemoryMessage,
} from './memory-mailbox';
export { DEFAULT_PAGE_SIZE, MemoryMailboxClient, remoteMessage } from './memory-mailbox-client';
export {
  MEMORY_WELL_KNOWN_FOLDERS,
  MemoryProvider,
  MemoryVault,
  type MemoryDelivery,
  type MemoryLifecycleDelivery,
  type MemoryProviderOptions,
} from './memory-provider';
