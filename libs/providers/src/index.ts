export * from './port';
export { MAIL_PROVIDER_NAMES, ProviderRegistry, UnknownProviderError, providerRegistry } from './registry';
export * from './outlook';
export * from './memory';
export * from './imap';
export { isBlankHtml, sanitizeMailHtml, textAlternative } from './compose/mail-html';
