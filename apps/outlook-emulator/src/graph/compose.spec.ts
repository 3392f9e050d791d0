import { MailboxStore } from '../store/mailbox-store';
import type { EmailAddress, MessageContent } from '../store/model';
import { replyRecipients, responseBody, responseSubject } from './compose';

const me: EmailAddress = { name: 'Alice', address: 'alice@contoso.example' };
const bob: EmailAddress = { name: 'Bob', address: 'bob@fabrikam.example' };
const erin: EmailAddress = { name: 'Erin', address: 'erin@elsewhere.example' };
const frank: EmailAddress = { name: 'Frank', address: 'frank@elsewhere.example' };

function content(overrides: Partial<MessageContent>): MessageContent {
  const store = new MailboxStore();
  const mb = store.createMailbox({ address: me.address });
  const msg = store.createMessage(mb.wellKnown.get('inbox')!, { subject: 'x' });
  return { ...store.content(msg), ...overrides };
}

describe('compose: replies and forwards as Outlook writes them', () => {
  it('prefixes the subject without repeating the same prefix', () => {
    expect(responseSubject('reply', 'Offsite')).toBe('RE: Offsite');
    expect(responseSubject('replyAll', 're: Offsite')).toBe('RE: Offsite');
    expect(responseSubject('forward', 'RE: Offsite')).toBe('FW: RE: Offsite');
    expect(responseSubject('forward', 'Fwd: Offsite')).toBe('FW: Offsite');
    expect(responseSubject('reply', 'FW: Offsite')).toBe('RE: FW: Offsite');
    expect(responseSubject('forward', '')).toBe('FW: ');
  });

  it('replies to replyTo when set, else the sender; to the recipients when the original is mine', () => {
    expect(replyRecipients(content({ from: bob, toRecipients: [me] }), me, false)).toEqual({
      to: [bob],
      cc: [],
    });
    expect(
      replyRecipients(content({ from: bob, replyTo: [erin], toRecipients: [me] }), me, false).to,
    ).toEqual([erin]);
    expect(replyRecipients(content({ from: me, toRecipients: [bob, erin] }), me, false).to).toEqual([
      bob,
      erin,
    ]);
  });

  it('reply-all: sender plus To, Cc kept, the mailbox and duplicates removed', () => {
    const original = content({
      from: bob,
      toRecipients: [{ ...me, address: 'ALICE@contoso.example' }, erin, bob],
      ccRecipients: [frank, me, erin],
    });
    expect(replyRecipients(original, me, true)).toEqual({ to: [bob, erin], cc: [frank] });
  });

  it('puts the comment (escaped) above a header block and the original body', () => {
    const original = content({
      from: bob,
      toRecipients: [me],
      ccRecipients: [erin],
      subject: 'Plans & <dates>',
      bodyContentType: 'text',
      body: 'line one\nline two',
      sentAt: Date.UTC(2026, 2, 1, 9, 30),
    });
    const { contentType, content: html } = responseBody(original, { contentType: 'text', content: 'a < b' });
    expect(contentType).toBe('html');
    expect(html).toContain('<div>a &lt; b</div>');
    expect(html).toContain('<b>From:</b> Bob &lt;bob@fabrikam.example&gt;');
    expect(html).toContain('<b>Sent:</b> Sun, 01 Mar 2026 09:30:00 GMT');
    expect(html).toContain('<b>Cc:</b> Erin');
    expect(html).toContain('<b>Subject:</b> Plans &amp; &lt;dates&gt;');
    expect(html).toMatch(/line one<br>line two<\/body><\/html>$/);
    const fromHtml = responseBody(
      content({ bodyContentType: 'html', body: '<html><head></head><body><p>hi</p></body></html>' }),
      { contentType: 'html', content: '<html><body><b>ok</b></body></html>' },
    ).content;
    expect(fromHtml).toContain('<div><b>ok</b></div>');
    expect(fromHtml).toMatch(/<p>hi<\/p><\/body><\/html>$/);
    expect(fromHtml.match(/<body>/g)).toHaveLength(1);
  });
});
