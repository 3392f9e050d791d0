import { BadGatewayException, ConflictException } from '@nestjs/common';
import {
  AccountTokensNotFoundError,
  GraphRequestError,
  GraphTransientError,
  ReauthRequiredError,
  TokenRefreshTimeoutError,
} from '@email-core/graph';
import { AppError } from '../http/app-error';

export const AttachmentErrors = {
  messageNotFound: () => new AppError('MESSAGE_NOT_FOUND', 'not_found', 'no such message in your accounts'),
  attachmentNotFound: () =>
    new AppError('ATTACHMENT_NOT_FOUND', 'not_found', 'no such attachment on this message'),
} as const;

/**
 * What a failed Graph call means to the client. `notFound` is the answer for Graph's 404 (the message, or the
 * attachment, is no longer in Outlook). Graph's own messages are not passed on; its codes are, in the message.
 */
export function graphFailure(err: unknown, notFound: () => AppError): unknown {
  if (err instanceof GraphRequestError) {
    if (err.status === 404) return notFound();
    return new BadGatewayException({
      error: 'GRAPH_ERROR',
      message: `Outlook refused the request (${err.status}${err.code ? ` ${err.code}` : ''})`,
    });
  }
  if (err instanceof GraphTransientError || err instanceof TokenRefreshTimeoutError) {
    const after = err instanceof GraphTransientError ? err.retryAfterMs : undefined;
    return new AppError(
      'GRAPH_UNAVAILABLE',
      'unavailable',
      'Outlook is busy or unreachable; try again shortly',
      {
        retryAfterSeconds: after === undefined ? 5 : after / 1000,
      },
    );
  }
  if (err instanceof ReauthRequiredError || err instanceof AccountTokensNotFoundError) {
    return new ConflictException({
      error: 'REAUTH_REQUIRED',
      message: 'Microsoft no longer accepts the sign-in of this account; link the mailbox again',
    });
  }
  return err;
}
