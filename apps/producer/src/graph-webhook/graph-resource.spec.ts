import { mailboxPokeChangeSchema } from '@email-core/contracts';
import { parseGraphResource, pokeChangeOf } from './graph-resource';
import type { ChangeItem } from './notification-payload';

describe('parseGraphResource', () => {
  it.each([
    // what Graph sends for a message subscription (graph-contract), and the emulator's notification sender
    ['Users/5c1/Messages/AAMkAG=', { messageId: 'AAMkAG=' }],
    ['Users/5c1/Messages/AAMkAGI2THVSAAA%3D', { messageId: 'AAMkAGI2THVSAAA=' }],
    ['me/messages/AAMkAG=', { messageId: 'AAMkAG=' }],
    ["me/Messages('AAMkAG=')", { messageId: 'AAMkAG=' }],
    ["me/messages('it''s')", { messageId: "it's" }],
    ['me/messages/AAMk-1/', { messageId: 'AAMk-1' }],
    ['me/messages/AAMk-1?$select=subject', { messageId: 'AAMk-1' }],
    ['/users/5c1/mailFolders/F1/messages/AAMk-1', { messageId: 'AAMk-1', folderId: 'F1' }],
    ["me/mailFolders('Inbox')/messages('M1')", { messageId: 'M1', folderId: 'Inbox' }],
    ['me/mailFolders/F1/childFolders/C%2F2/messages/M1', { messageId: 'M1', folderId: 'C/2' }],
    ['https://graph.microsoft.com/v1.0/users/5c1/messages/M1', { messageId: 'M1' }],
  ])('%s names %j', (resource, ids) => {
    expect(parseGraphResource(resource)).toEqual(ids);
  });

  it.each([
    ['Users/x/mailFolders/inbox/messages', { folderId: 'inbox' }],
    ["me/mailFolders('Inbox')/messages", { folderId: 'Inbox' }],
    ['Users/u-1/mailFolders/inbox', { folderId: 'inbox' }],
    ["me/mailFolders('AAMkF=')/messages?$filter=isRead eq false", { folderId: 'AAMkF=' }],
  ])('%s names only the folder %j', (resource, ids) => {
    expect(parseGraphResource(resource)).toEqual(ids);
  });

  it.each([
    ['me/messages'],
    ['me/messages?$filter=isRead eq false'],
    ['/users/5c1/messages'],
    ['me/messages/M1/attachments/A1'],
    ['me/events/E1'],
    [''],
    ['r/1'],
  ])('%s names nothing', (resource) => {
    expect(parseGraphResource(resource)).toEqual({});
  });

  it('keeps a malformed escape as it is, and drops an id longer than the contract allows', () => {
    expect(parseGraphResource('me/messages/AA%E0%A4%A')).toEqual({ messageId: 'AA%E0%A4%A' });
    expect(parseGraphResource(`me/messages/${'m'.repeat(513)}`)).toEqual({});
    expect(parseGraphResource(`me/mailFolders/${'f'.repeat(1025)}/messages/M1`)).toEqual({ messageId: 'M1' });
  });
});

describe('pokeChangeOf', () => {
  const item = (resource: string, id?: string): ChangeItem => ({
    subscriptionId: 'sub-1',
    clientState: 'secret',
    changeType: 'updated',
    resource,
    ...(id === undefined ? {} : { resourceData: { id } }),
  });

  it('prefers resourceData.id, and keeps the folder the resource names', () => {
    expect(pokeChangeOf(item('me/mailFolders/F1/messages/from-resource', 'from-data'))).toEqual({
      kind: 'updated',
      messageId: 'from-data',
      folderId: 'F1',
    });
  });

  it('falls back to the resource, and to a change that names nothing', () => {
    expect(pokeChangeOf(item('Users/u/Messages/M%3D1'))).toEqual({ kind: 'updated', messageId: 'M=1' });
    expect(pokeChangeOf(item('me/messages'))).toEqual({ kind: 'updated' });
  });

  it('gives changes the contract accepts, without the clientState or the resource', () => {
    for (const resource of ['Users/u/Messages/M1', "me/mailFolders('F')/messages", 'me/messages']) {
      const change = pokeChangeOf(item(resource));
      expect(mailboxPokeChangeSchema.parse(change)).toEqual(change);
      expect(JSON.stringify(change)).not.toMatch(/secret|Users|mailFolders/);
    }
  });
});
