export type { HostPolicy, ImapAccountSettings, MailServerSettings, ServerSecurity } from './imap-settings';
export { decodeMessageId, encodeMessageId, type ImapMessageLocation } from './imap-ids';
export {
  HostLookupError,
  HostNotAllowedError,
  isValidMailHost,
  refusedAddressClass,
  resolveAllowedHost,
} from './host-guard';
export {
  openImapSession,
  toImapPortError,
  withImapSession,
  type ImapExpunge,
  type ImapSessionOptions,
} from './imap-connection';
export {
  IMAP_REQUEST_STATUSES,
  SMTP_REQUEST_STATUSES,
  countedImapClient,
  imapRequestStatus,
  mailRequestCounters,
  smtpRequestStatus,
  type ImapRequestCounter,
  type ImapRequestStatus,
  type MailRequestCounters,
  type SmtpRequestCounter,
  type SmtpRequestStatus,
} from './imap-request-metrics';
export { IMAP_SETTINGS_NEVER_EXPIRE, ImapCredentialVault, parseImapSettings } from './imap-vault';
export {
  IMAP_DEFAULT_PAGE_BYTES,
  IMAP_DEFAULT_PAGE_SIZE,
  IMAP_WELL_KNOWN,
  ImapMailbox,
  folderTree,
  IMAP_WATCH,
} from './imap-mailbox';
export { ImapProvider, imapProvider, type ImapProviderOptions } from './imap.provider';
export {
  MAIL_LINK_FAILURES,
  MailLinkCheckError,
  checkImapLogin,
  checkMailAccountSettings,
  checkSmtpLogin,
  type MailLinkFailure,
} from './imap-link-probe';
export {
  ImapIdleConnection,
  diffFolderStatuses,
  folderStatuses,
  pollFolderStatuses,
  readFolderStatuses,
  statusFingerprint,
  type FolderStatuses,
  type ImapChangeKind,
  type ImapIdleOptions,
  type ImapWatchChange,
} from './imap-idle';
