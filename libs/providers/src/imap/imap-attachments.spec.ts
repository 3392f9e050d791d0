import type { MessageStructureObject } from 'imapflow';
import { attachmentsOf } from './imap-attachments';

const text = (part: string, extra: Partial<MessageStructureObject> = {}): MessageStructureObject => ({
  part,
  type: 'text/plain',
  parameters: { charset: 'utf-8' },
  encoding: 'quoted-printable',
  size: 120,
  ...extra,
});

describe('attachmentsOf (BODYSTRUCTURE → attachments)', () => {
  it('a plain text message has none; nor has an inline body text', () => {
    expect(attachmentsOf(text('1'))).toEqual([]);
    expect(attachmentsOf(text('1', { disposition: 'inline' }))).toEqual([]);
    expect(attachmentsOf(undefined)).toEqual([]);
  });

  it('lists attachment and inline parts with their part numbers, names, types and decoded sizes', () => {
    const root: MessageStructureObject = {
      type: 'multipart/mixed',
      childNodes: [
        {
          part: '1',
          type: 'multipart/related',
          childNodes: [
            {
              part: '1.1',
              type: 'multipart/alternative',
              childNodes: [text('1.1.1'), text('1.1.2', { type: 'text/html' })],
            },
            // an inline image referenced by cid:, no disposition
            { part: '1.2', type: 'image/png', id: '<logo@x>', encoding: 'base64', size: 780 },
          ],
        },
        {
          part: '2',
          type: 'application/pdf',
          disposition: 'attachment',
          dispositionParameters: { filename: 'report.pdf' },
          encoding: 'base64',
          size: 7800,
        },
        {
          part: '3',
          type: 'image/jpeg',
          disposition: 'inline',
          parameters: { name: 'photo.jpg' },
          encoding: 'base64',
          size: 78,
        },
        // a text file attached without a disposition but with a name
        text('4', { type: 'text/calendar', parameters: { name: 'invite.ics' }, encoding: '7bit', size: 300 }),
        // an embedded message: one attachment, its inner parts not listed
        {
          part: '5',
          type: 'message/rfc822',
          size: 900,
          envelope: { subject: 'Old thread' },
          childNodes: [text('5.1'), { part: '5.2', type: 'application/zip', disposition: 'attachment' }],
        },
      ],
    };
    expect(attachmentsOf(root)).toEqual([
      {
        id: '1.2',
        name: 'attachment-1.2',
        contentType: 'image/png',
        size: 570,
        isInline: true,
        // what the HTML's cid: names, without the header's angle brackets
        contentId: 'logo@x',
        kind: 'file',
      },
      {
        id: '2',
        name: 'report.pdf',
        contentType: 'application/pdf',
        size: 5700,
        isInline: false,
        kind: 'file',
      },
      { id: '3', name: 'photo.jpg', contentType: 'image/jpeg', size: 57, isInline: true, kind: 'file' },
      { id: '4', name: 'invite.ics', contentType: 'text/calendar', size: 300, isInline: false, kind: 'file' },
      {
        id: '5',
        name: 'Old thread.eml',
        contentType: 'message/rfc822',
        size: 900,
        isInline: false,
        kind: 'item',
      },
    ]);
  });

  it('a message that is a single non-text part is one attachment, part 1', () => {
    expect(
      attachmentsOf({
        type: 'application/pdf',
        disposition: 'attachment',
        dispositionParameters: { filename: 'only.pdf' },
        size: 10,
      }),
    ).toEqual([
      { id: '1', name: 'only.pdf', contentType: 'application/pdf', size: 10, isInline: false, kind: 'file' },
    ]);
  });

  it('a text body marked attachment is one; a nameless non-text leaf without Content-ID is not', () => {
    const root: MessageStructureObject = {
      type: 'multipart/mixed',
      childNodes: [
        text('1'),
        text('2', { disposition: 'attachment' }),
        { part: '3', type: 'application/octet-stream', size: 5 },
      ],
    };
    expect(attachmentsOf(root).map((a) => [a.id, a.name])).toEqual([['2', 'attachment-2']]);
  });
});
