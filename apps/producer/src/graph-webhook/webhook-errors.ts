import { PayloadTooLargeException } from '@nestjs/common';
import { AppError } from '../http/app-error';

/**
 * The webhook's answers other than 200/202, in the API's `{error, message}` shape. Messages name what is wrong
 * (paths and zod rule codes), never a value from the request: a clientState must not come back in a response.
 */
export const WebhookErrors = {
  payloadTooLarge: (maxBytes: number) => ({
    error: 'PAYLOAD_TOO_LARGE',
    message: `a notification body may have at most ${maxBytes} bytes`,
  }),
  /** more items in one POST than WEBHOOK_MAX_ITEMS: refused before any lookup */
  tooManyNotifications: (maxItems: number) =>
    new PayloadTooLargeException({
      error: 'TOO_MANY_NOTIFICATIONS',
      message: `a notification body may hold at most ${maxItems} items`,
    }),
  /** the source sent more unknown subscription ids than its budget (WEBHOOK_UNKNOWN_IDS_PER_MINUTE) */
  tooManyUnknownSubscriptions: (retryAfterSeconds: number) =>
    new AppError(
      'RATE_LIMITED',
      'rate_limited',
      'too many notifications for unknown subscriptions from this address; try again later',
      { retryAfterSeconds },
    ),
  invalidJson: () => new AppError('INVALID_JSON', 'invalid', 'the body is not valid JSON'),
  invalidNotification: (problem: string) =>
    new AppError('INVALID_NOTIFICATION', 'invalid', `not a Graph notification payload: ${problem}`),
  invalidValidationToken: (maxLength: number) =>
    new AppError(
      'INVALID_VALIDATION_TOKEN',
      'invalid',
      `validationToken must be given once and have at most ${maxLength} characters`,
    ),
  /** Kafka or Postgres did not answer in time: a 5xx, so Graph delivers the notification again */
  unavailable: (cause?: unknown) =>
    new AppError(
      'NOTIFICATIONS_UNAVAILABLE',
      'unavailable',
      'the notifications could not be stored right now; deliver them again',
      { cause },
    ),
};
