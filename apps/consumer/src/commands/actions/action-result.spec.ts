import type { MailCommandRequest } from '@email-core/contracts';
import { settle, type IdFailure } from './action-result';

const ACCOUNT = '7f0c1f7e-5d0a-4a53-9a53-2b8f7f9b8a11';
const move = (n: number): MailCommandRequest => ({
  accountId: ACCOUNT,
  action: 'move',
  messageIds: Array.from({ length: n }, (_v, i) => `m${i}`),
  destinationFolderId: 'archive',
});
const gone = (id: string): IdFailure => ({ id, code: 'MESSAGE_GONE', message: 'gone' });
const refused = (id: string, code = 'ErrorAccessDenied'): IdFailure => ({
  id,
  code,
  message: 'Access is denied.',
});

describe('settle', () => {
  it('is done when nothing failed', () => {
    expect(settle(move(3), { total: 3, failures: [], touched: [] })).toEqual({ status: 'done' });
  });

  it('counts a partial failure by cause', () => {
    expect(
      settle(
        { accountId: ACCOUNT, action: 'markRead', messageIds: ['a', 'b', 'c', 'd', 'e'], isRead: true },
        { total: 5, failures: [gone('a'), gone('b'), refused('c')], touched: [] },
      ),
    ).toEqual({
      status: 'failed',
      code: 'PARTIAL_FAILURE',
      reason:
        '3 of 5 messages could not be marked read: 2 no longer exist in Outlook, 1 refused by Outlook ' +
        '(ErrorAccessDenied). The other 2 were marked read.',
    });
  });

  it('MESSAGE_GONE when every message is gone; Graph’s code when Outlook refused all', () => {
    const one = settle(move(1), { total: 1, failures: [gone('m0')], touched: [] });
    expect(one).toMatchObject({ status: 'failed', code: 'MESSAGE_GONE' });
    expect(one.status === 'failed' && one.reason).toMatch(
      /^The message no longer exists in Outlook .* could not be moved/,
    );
    const two = settle(move(2), { total: 2, failures: [gone('m0'), gone('m1')], touched: [] });
    expect(two).toMatchObject({ status: 'failed', code: 'MESSAGE_GONE' });
    expect(two.status === 'failed' && two.reason).toMatch(/^None of the 2 messages exist/);
    expect(settle(move(1), { total: 1, failures: [refused('m0')], touched: [] })).toEqual({
      status: 'failed',
      code: 'ErrorAccessDenied',
      reason: 'Outlook refused: Access is denied. (ErrorAccessDenied)',
    });
  });

  it('an outgoing mail Outlook refused says nothing was sent', () => {
    expect(
      settle(
        {
          accountId: ACCOUNT,
          action: 'send',
          subject: '',
          body: { contentType: 'text', content: '' },
          toRecipients: [],
          ccRecipients: [],
          bccRecipients: [],
          attachments: [],
        },
        { total: 1, failures: [refused('mail', 'ErrorInvalidRecipients')], touched: [] },
      ),
    ).toEqual({
      status: 'failed',
      code: 'ErrorInvalidRecipients',
      reason: 'Outlook refused the mail, so nothing was sent: Access is denied. (ErrorInvalidRecipients)',
    });
  });
});
