import { GraphError } from '../../graph/graph-error';

/** Graph's answers for subscriptions; the real texts where they are known (graph-contract.md §4, §6) */

export const invalidSubscription = (message: string): GraphError =>
  new GraphError(400, 'InvalidRequest', message);

export const emptyPayload = (): GraphError =>
  new GraphError(400, 'BadRequest', 'Empty Payload. JSON content expected.');

export const expirationBeyondCap = (maxMinutes: number): GraphError =>
  new GraphError(
    400,
    'ExtensionError',
    `Subscription expiration can only be ${maxMinutes} minutes in the future.`,
  );

export const validationFailed = (): GraphError =>
  invalidSubscription(
    'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
  );

export const subscriptionNotFound = (): GraphError =>
  new GraphError(404, 'ResourceNotFound', 'The object was not found.');

export const accessDenied = (): GraphError =>
  new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');

export const folderNotFound = (): GraphError =>
  new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');

export const tooManySubscriptions = (max: number): GraphError =>
  new GraphError(403, 'ExtensionError', `The mailbox has reached the maximum of ${max} subscriptions.`);
