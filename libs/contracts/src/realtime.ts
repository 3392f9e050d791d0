import type { DomainEvent } from './messages';

/**
 * The real-time socket (socket.io at path `/api/v1/realtime`). A client connects with its access token
 * (`auth: { token }`); the server verifies it in the handshake and joins the socket to its user's room only.
 * Every domain event of the user's accounts is emitted under its own `type` as the event name, with the event
 * as payload. Events never carry secrets.
 */
export const REALTIME_PATH = '/api/v1/realtime';

export const RealtimeEvents = {
  syncProgress: 'sync.progress',
  syncCompleted: 'sync.completed',
  accountStatus: 'account.status',
  mailChanged: 'mail.changed',
  commandStatus: 'command.status',
  commandBatchStatus: 'command.batch.status',
} as const satisfies Record<string, DomainEvent['type']>;

export type RealtimeEventName = (typeof RealtimeEvents)[keyof typeof RealtimeEvents];
