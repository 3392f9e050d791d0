import {
  DRAFT_ID_HEADER,
  bccOf,
  composeMessage,
  draftIdOf,
  forwardOptions,
  forwardSubject,
  newMailOptions,
  parseMessage,
  rebuildOptions,
  referencesOf,
  replyOptions,
  replyRecipients,
  replySubject,
  sentCopy,
} from './imap-compose';

const SELF = 'me@example.test';

/** A raw original as another client would have sent it to us (and others). */
function original(
  opts: { html?: boolean; from?: string; replyTo?: string; attachment?: boolean } = {},
): Buffer {
  const boundary = 'b1';
  const lines = [
    `From: ${opts.from ?? 'Alice <alice@example.test>'}`,
    'To: Me <me@example.test>, Bob <bob@example.test>',
    'Cc: carol@example.test, ME@example.test',
    ...(opts.replyTo ? [`Reply-To: ${opts.replyTo}`] : []),
    'Subject: Quarterly numbers',
    'Date: Tue, 01 Dec 2026 10:00:00 +0000',
    'Message-ID: <orig-1@example.test>',
    'References: <root-0@example.test>',
    'MIME-Version: 1.0',
  ];
  const body = opts.html
    ? ['Content-Type: text/html; charset=utf-8', '', '<p>See <b>attached</b> & reply</p>']
    : ['Content-Type: text/plain; charset=utf-8', '', 'Line one', 'Line two'];
  if (!opts.attachment) return Buffer.from([...lines, ...body, ''].join('\r\n'));
  return Buffer.from(
    [
      ...lines,
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      ...body,
      `--${boundary}`,
      'Content-Type: application/pdf; name="q3.pdf"',
      'Content-Disposition: attachment; filename="q3.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('%PDF-1.4 numbers').toString('base64'),
      `--${boundary}--`,
      '',
    ].join('\r\n'),
  );
}

describe('imap-compose', () => {
  it('prefixes subjects once: "Re: " and "Fw: "', () => {
    expect(replySubject('Hello')).toBe('Re: Hello');
    expect(replySubject('RE: Hello')).toBe('RE: Hello');
    expect(replySubject(undefined)).toBe('Re: ');
    expect(forwardSubject('Hello')).toBe('Fw: Hello');
    expect(forwardSubject('Fwd: Hello')).toBe('Fwd: Hello');
    expect(forwardSubject('fw: Hello')).toBe('fw: Hello');
  });

  it('threads: References = the original References + its Message-ID', () => {
    expect(referencesOf({ references: '<a@x> <b@x>', messageId: '<c@x>' })).toEqual([
      '<a@x>',
      '<b@x>',
      '<c@x>',
    ]);
    expect(referencesOf({ references: ['<a@x>'], messageId: '<a@x>' })).toEqual(['<a@x>']);
    expect(referencesOf({ references: undefined, messageId: undefined })).toEqual([]);
  });

  it('reply goes to the sender (Reply-To first), reply all adds To and Cc minus self', async () => {
    const parsed = await parseMessage(original());
    expect(replyRecipients(parsed, SELF, false)).toEqual({
      to: [{ address: 'alice@example.test', name: 'Alice' }],
      cc: [],
    });
    const all = replyRecipients(parsed, SELF, true);
    expect(all.to.map((r) => r.address)).toEqual(['alice@example.test', 'bob@example.test']);
    expect(all.cc.map((r) => r.address)).toEqual(['carol@example.test']);

    const withReplyTo = await parseMessage(original({ replyTo: 'list@example.test' }));
    expect(replyRecipients(withReplyTo, SELF, false).to.map((r) => r.address)).toEqual(['list@example.test']);
  });

  it('a reply to a mail the account sent itself goes to its recipients', async () => {
    const parsed = await parseMessage(original({ from: 'Me <me@example.test>' }));
    expect(replyRecipients(parsed, SELF, false).to.map((r) => r.address)).toEqual([
      'me@example.test',
      'bob@example.test',
    ]);
    expect(replyRecipients(parsed, SELF, true).to.map((r) => r.address)).toEqual(['bob@example.test']);
  });

  it('builds a text reply with threading headers and the quoted original', async () => {
    const parsed = await parseMessage(original());
    const composed = await composeMessage(replyOptions(parsed, SELF, { replyAll: true, comment: 'Thanks!' }));
    const reply = await parseMessage(composed.raw);
    expect(reply.subject).toBe('Re: Quarterly numbers');
    expect(reply.inReplyTo).toBe('<orig-1@example.test>');
    expect(reply.references).toEqual(['<root-0@example.test>', '<orig-1@example.test>']);
    expect(reply.text).toContain('Thanks!');
    expect(reply.text).toContain('> Line one');
    expect(reply.text).toContain('Subject: Quarterly numbers');
    expect(reply.html || undefined).toBeUndefined();
    expect(composed.envelope).toEqual({
      from: SELF,
      to: ['alice@example.test', 'bob@example.test', 'carol@example.test'],
    });
    expect(reply.messageId).toBe(composed.messageId);
  });

  it('builds an HTML reply quoting the original HTML, the comment escaped', async () => {
    const parsed = await parseMessage(original({ html: true }));
    const opts = replyOptions(parsed, SELF, { replyAll: false, comment: 'a < b\nsecond' });
    expect(opts.html).toContain('<div>a &lt; b</div>');
    expect(opts.html).toContain('<blockquote');
    // the original's HTML as it was
    expect(opts.html).toContain('<p>See <b>attached</b> & reply</p>');
    expect(opts.attachments).toEqual([]);
  });

  it('a new HTML mail goes as multipart/alternative with its text part; Bcc only in the envelope', async () => {
    const composed = await composeMessage(
      newMailOptions(SELF, {
        subject: 'Rich',
        body: {
          contentType: 'html',
          content:
            '<p><strong>Bold</strong></p><ul><li><p>one</p></li></ul><p><a href="https://x.test/">x</a></p>',
        },
        toRecipients: [{ address: 'to@example.test' }],
        ccRecipients: [],
        bccRecipients: [{ address: 'hidden@example.test' }],
        attachments: [],
      }),
    );
    const raw = composed.raw.toString();
    expect(raw).toMatch(/Content-Type: multipart\/alternative/i);
    expect(raw).not.toMatch(/^Bcc:/im);
    expect(raw).not.toContain('hidden@example.test');
    expect(composed.envelope.to).toEqual(['to@example.test', 'hidden@example.test']);
    const parsed = await parseMessage(composed.raw);
    expect(parsed.html).toContain('<strong>Bold</strong>');
    expect(parsed.text).toContain('Bold');
    expect(parsed.text).toMatch(/^ \* one$/m);
    expect(parsed.text).toContain('x [https://x.test/]');
    // the Sent copy alone records the Bcc
    expect(sentCopy(composed.raw, [{ address: 'hidden@example.test' }]).toString()).toMatch(
      /^Bcc: hidden@example.test\r\n/,
    );
  });

  it('a rebuilt HTML draft is sent as multipart/alternative again, its text part made anew', async () => {
    const draft = await composeMessage(
      newMailOptions(SELF, {
        subject: 'Draft',
        body: { contentType: 'html', content: '<p><strong>Bold</strong></p><ul><li>one</li></ul>' },
        toRecipients: [{ address: 'to@example.test' }],
        ccRecipients: [],
        bccRecipients: [{ address: 'hidden@example.test' }],
        attachments: [],
      }),
      true,
    );
    const sent = await composeMessage(rebuildOptions(await parseMessage(draft.raw), SELF, [], undefined));
    expect(sent.raw.toString()).toMatch(/Content-Type: multipart\/alternative/i);
    expect(sent.raw.toString()).not.toMatch(/^Bcc:/im);
    const parsed = await parseMessage(sent.raw);
    expect(parsed.html).toContain('<strong>Bold</strong>');
    expect(parsed.text).toMatch(/^ \* one$/m);
  });

  it('a reply with its own body (the quote written by the dashboard) is not quoted again; Bcc in the envelope', async () => {
    const parsed = await parseMessage(original({ html: true }));
    const own =
      '<p>Yes.</p><p>On Tue, 01 Dec 2026 10:00:00 GMT, Alice wrote:</p><blockquote><p>See attached</p></blockquote>';
    const opts = replyOptions(parsed, SELF, {
      replyAll: false,
      comment: '',
      body: { contentType: 'html', content: own },
      bccRecipients: [{ address: 'boss@example.test' }],
    });
    expect(opts.html).toBe(own);
    expect(opts.text).toContain('> See attached');
    const composed = await composeMessage(opts);
    expect(composed.raw.toString()).not.toMatch(/^Bcc:/im);
    expect(composed.envelope.to).toEqual(['alice@example.test', 'boss@example.test']);
    const reply = await parseMessage(composed.raw);
    expect(reply.inReplyTo).toBe('<orig-1@example.test>');
    expect(reply.html).not.toContain('See <b>attached</b>');
  });

  it('forwards with the original attachments, to the given recipients, no In-Reply-To', async () => {
    const parsed = await parseMessage(original({ attachment: true }));
    const composed = await composeMessage(
      forwardOptions(parsed, SELF, {
        comment: 'FYI',
        toRecipients: [{ address: 'dave@example.test', name: 'Dave' }],
      }),
    );
    const fwd = await parseMessage(composed.raw);
    expect(fwd.subject).toBe('Fw: Quarterly numbers');
    expect(fwd.inReplyTo).toBeUndefined();
    expect(fwd.text).toContain('FYI');
    expect(fwd.text).toContain('Line one');
    expect(fwd.attachments.map((a) => [a.filename, a.contentType, a.content.toString()])).toEqual([
      ['q3.pdf', 'application/pdf', '%PDF-1.4 numbers'],
    ]);
    expect(composed.envelope.to).toEqual(['dave@example.test']);
  });

  it('sends Bcc in the envelope only; the Sent copy records it', async () => {
    const composed = await composeMessage(
      newMailOptions(SELF, {
        subject: 'Hi',
        body: { contentType: 'text', content: 'hello' },
        toRecipients: [{ address: 'to@example.test' }],
        ccRecipients: [],
        bccRecipients: [{ address: 'hidden@example.test', name: 'Hidden' }],
        attachments: [{ name: 'a.txt', contentType: 'text/plain', content: Buffer.from('file') }],
      }),
    );
    expect(composed.envelope.to).toEqual(['to@example.test', 'hidden@example.test']);
    expect(composed.raw.toString()).not.toMatch(/^Bcc:/im);
    const copy = sentCopy(composed.raw, [{ address: 'hidden@example.test' }]);
    expect(copy.subarray(copy.length - composed.raw.length).equals(composed.raw)).toBe(true);
    const parsed = await parseMessage(copy);
    expect(bccOf(parsed).map((r) => r.address)).toEqual(['hidden@example.test']);
    expect(parsed.attachments[0].content.toString()).toBe('file');
    expect(sentCopy(composed.raw, [])).toBe(composed.raw);
  });

  it('rebuilds a draft with one more attachment, keeping Message-ID, Bcc, threading and the draft id', async () => {
    const parsed = await parseMessage(original({ attachment: true }));
    const draft = await composeMessage(
      { ...replyOptions(parsed, SELF, { replyAll: false, comment: 'draft' }), bcc: 'b@example.test' },
      true,
    );
    const draftParsed = await parseMessage(draft.raw);
    expect(bccOf(draftParsed).map((r) => r.address)).toEqual(['b@example.test']);
    expect(draftIdOf(draftParsed)).toBeUndefined();

    const rebuilt = await composeMessage(
      rebuildOptions(
        draftParsed,
        SELF,
        [{ name: 'n.txt', contentType: 'text/plain', content: Buffer.from('new') }],
        'first-id',
      ),
      true,
    );
    const again = await parseMessage(rebuilt.raw);
    expect(again.messageId).toBe(draft.messageId);
    expect(again.inReplyTo).toBe('<orig-1@example.test>');
    expect(again.references).toEqual(['<root-0@example.test>', '<orig-1@example.test>']);
    expect(again.headers.get(DRAFT_ID_HEADER.toLowerCase())).toBe('first-id');
    expect(draftIdOf(again)).toBe('first-id');
    expect(again.attachments.map((a) => a.filename)).toEqual(['n.txt']);
    expect(again.text).toContain('draft');
    expect(bccOf(again).map((r) => r.address)).toEqual(['b@example.test']);

    // the version that is sent: no draft header, Bcc only in the envelope
    const sent = await composeMessage(rebuildOptions(again, SELF, [], undefined));
    expect(sent.raw.toString()).not.toContain(DRAFT_ID_HEADER);
    expect(sent.raw.toString()).not.toMatch(/^Bcc:/im);
    expect(sent.envelope.to).toEqual(['alice@example.test', 'b@example.test']);
    expect(sent.messageId).toBe(draft.messageId);
  });
});
