/**
 * The real-time socket's names and payloads, straight from `libs/contracts` (the one place they are written).
 * Payload types are type-only imports, so none of the contracts' zod schemas is bundled into the dashboard; the
 * payload is the domain event exactly as the worker published it.
 */
import type {
  AccountStatus,
  MailChange as ContractMailChange,
  MailChanged,
  SyncCompleted,
  SyncProgress,
} from '@email-core/contracts/messages';

export { REALTIME_PATH, RealtimeEvents, type RealtimeEventName } from '@email-core/contracts/realtime';

export type SyncProgressEvent = SyncProgress;
export type SyncCompletedEvent = SyncCompleted;
export type AccountStatusEvent = AccountStatus;
export type MailChange = ContractMailChange;
export type MailChangedEvent = MailChanged;
