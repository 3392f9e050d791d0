import { parseSubscriptionResource } from './subscription-resource';

describe('parseSubscriptionResource', () => {
  it.each([
    ['me/messages', { user: null, folder: null }],
    ['/me/messages', { user: null, folder: null }],
    ['Me/Messages', { user: null, folder: null }],
    ["me/mailFolders('Inbox')/messages", { user: null, folder: 'Inbox' }],
    ["/me/MailFolders('AAMkAGfolder=')/Messages", { user: null, folder: 'AAMkAGfolder=' }],
    ['me/mailfolders/inbox/messages', { user: null, folder: 'inbox' }],
    ['users/ada@example.com/messages', { user: 'ada@example.com', folder: null }],
    ['/Users/3f2a-guid/messages', { user: '3f2a-guid', folder: null }],
    ["users/3f2a-guid/mailFolders('sentitems')/messages", { user: '3f2a-guid', folder: 'sentitems' }],
    ['users/3f2a-guid/mailFolders/sentitems/messages', { user: '3f2a-guid', folder: 'sentitems' }],
    ["me/mailFolders('Inbox')/messages?$filter=isRead eq false", { user: null, folder: 'Inbox' }],
    ['me/messages?$filter=hasAttachments%20eq%20true', { user: null, folder: null }],
  ])('accepts %s', (resource, expected) => {
    expect(parseSubscriptionResource(resource)).toEqual(expected);
  });

  it.each([
    'me/events',
    'messages',
    'me/mailFolders',
    'me/mailFolders/inbox',
    'me/mailFolders/inbox/childFolders/x/messages',
    'me/messages/AAMkAGmsg=',
    'users/messages',
    'groups/g1/conversations',
    'me/messages?$top=5',
    '',
  ])('refuses %s', (resource) => {
    expect(parseSubscriptionResource(resource)).toBeUndefined();
  });
});
