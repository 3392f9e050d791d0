import type { PipeTransform } from '@nestjs/common';
import type { MailReadError, ReadResult } from '@email-core/database';
import { AppError } from '../http/app-error';

const MESSAGES: Record<MailReadError, string> = {
  ACCOUNT_NOT_FOUND: 'no such account',
  FOLDER_NOT_FOUND: 'no such folder in this account',
  MESSAGE_NOT_FOUND: 'no such message in this account',
  CONVERSATION_NOT_FOUND: 'no such conversation in this account',
};

/** 404 with the read's code; someone else's account or message reads exactly like a missing one */
export function mailNotFound(code: MailReadError): AppError {
  return new AppError(code, 'not_found', MESSAGES[code]);
}

/** the value of a read, or its 404 */
export function valueOrNotFound<T>(result: ReadResult<T>): T {
  if (!result.ok) throw mailNotFound(result.error);
  return result.value;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Account ids are UUIDs; anything else cannot be one of the user's accounts, so it is a 404 like any other
 * account that is not theirs (not a 400: the answer must not depend on whether an id is well-formed).
 */
export class AccountIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID.test(value)) throw mailNotFound('ACCOUNT_NOT_FOUND');
    return value.toLowerCase();
  }
}
