export { OUTLOOK_WATCH_SCOPE, OutlookMailbox, OutlookWatch } from './outlook-mailbox';
export { toProviderError } from './outlook-errors';
export {
  OutlookProvider,
  OutlookTokenVault,
  outlookProvider,
  type OutlookClientOptions,
} from './outlook.provider';
