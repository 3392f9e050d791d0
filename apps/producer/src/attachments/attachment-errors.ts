import { BadGatewayException, ConflictException } from '@nestjs/common';
import {
  CredentialsNotFoundError,
  ProviderRefusedError,
  ProviderUnavailableError,
  ReauthRequiredError,
} from '@email-core/providers';
import { AppError } from '../http/app-error';

export const AttachmentErrors = {
  messageNotFound: () => new AppError('MESSAGE_NOT_FOUND', 'not_found', 'no such message in your accounts'),
  attachmentNotFound: () =>
    new AppError('ATTACHMENT_NOT_FOUND', 'not_found', 'no such attachment on this message'),
} as const;

/**
 * What a failed provider call (the provider port's errors) means to the client. `notFound` is the answer for the
 * provider's 404 (the message, or the attachment, is no longer in the mailbox). The provider's own messages are
 * not passed on; its codes are, in the message.
 */
export function providerFailure(err: unknown, notFound: () => AppError): unknown {
  if (err instanceof ProviderRefusedError) {
    if (err.status === 404) return notFound();
    return new BadGatewayException({
      error: 'GRAPH_ERROR',
      message: `Outlook refused the request (${err.status}${err.code ? ` ${err.code}` : ''})`,
    });
  }
  if (err instanceof ProviderUnavailableError) {
    return new AppError(
      'GRAPH_UNAVAILABLE',
      'unavailable',
      'Outlook is busy or unreachable; try again shortly',
      {
        retryAfterSeconds: err.retryAfterMs === undefined ? 5 : err.retryAfterMs / 1000,
      },
    );
  }
  if (err instanceof ReauthRequiredError || err instanceof CredentialsNotFoundError) {
    return new ConflictException({
      error: 'REAUTH_REQUIRED',
      message: 'Microsoft no longer accepts the sign-in of this account; link the mailbox again',
    });
  }
  return err;
}
