import { isBlankHtml, sanitizeMailHtml, textAlternative } from './mail-html';

describe('mail-html', () => {
  it('keeps the editor formatting: bold, italic, lists, links, quotes', () => {
    const html =
      '<p><strong>Bold</strong> and <em>italic</em></p><ul><li><p>one</p></li><li><p>two</p></li></ul>' +
      '<ol><li><p>first</p></li></ol><p><a href="https://example.test/x">a link</a></p>' +
      '<blockquote><p>quoted</p></blockquote>';
    const out = sanitizeMailHtml(html);
    expect(out).toContain('<strong>Bold</strong>');
    expect(out).toContain('<em>italic</em>');
    expect(out).toContain('<ul><li><p>one</p></li><li><p>two</p></li></ul>');
    expect(out).toContain('<ol><li><p>first</p></li></ol>');
    expect(out).toContain(
      '<a href="https://example.test/x" target="_blank" rel="noopener noreferrer">a link</a>',
    );
    expect(out).toContain(
      '<blockquote style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex"><p>quoted</p></blockquote>',
    );
  });

  it('removes scripts, handlers, styles, frames, forms and unsafe addresses', () => {
    const out = sanitizeMailHtml(
      '<p onclick="steal()" style="color:red">hi<script>alert(1)</script></p>' +
        '<style>p{}</style><iframe src="https://evil.test"></iframe><form><input name="x"></form>' +
        '<a href="javascript:alert(1)">js</a><a href="data:text/html,x">data</a>' +
        '<img src="https://img.test/a.png" onerror="x()"><img src="data:image/png;base64,AAAA">' +
        '<img src="cid:logo@x"><img src="x"><img src="//evil.test/t.png">',
    );
    expect(out).not.toMatch(/script|onclick|onerror|style=|iframe|<form|<input|javascript:|data:/i);
    expect(out).toContain('<p>hi</p>');
    expect(out).toContain('<a target="_blank" rel="noopener noreferrer">js</a>');
    expect(out).toContain('<img src="https://img.test/a.png" />');
    expect(out).toContain('<img src="cid:logo@x" />');
    expect(out.match(/<img/g)).toHaveLength(2);
  });

  it('a quote keeps only its own left rule, whatever the browser sent', () => {
    expect(sanitizeMailHtml('<blockquote style="position:fixed;background:url(x)">q</blockquote>')).toBe(
      '<blockquote style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">q</blockquote>',
    );
  });

  it('makes a text alternative: paragraphs, list items, links with their address, quotes', () => {
    const text = textAlternative(
      '<p><strong>Hello</strong> Bob,</p><ul><li><p>apples</p></li><li><p>pears</p></li></ul>' +
        '<ol><li>first</li><li>second</li></ol>' +
        '<p>See <a href="https://example.test/report">the report</a> or https://example.test/raw.</p>' +
        '<p>On Tue, 01 Dec 2026 10:00:00 GMT, Alice wrote:</p><blockquote><p>Earlier text</p></blockquote>',
    );
    expect(text).toContain('Hello Bob,');
    expect(text).toMatch(/^ \* apples$/m);
    expect(text).toMatch(/^ \* pears$/m);
    expect(text).toMatch(/^ 1\. first$/m);
    expect(text).toMatch(/^ 2\. second$/m);
    expect(text).toContain('the report [https://example.test/report]');
    expect(text).toMatch(/^> Earlier text$/m);
    expect(text).not.toContain('<');
  });

  it('wraps long lines at 78 characters', () => {
    const text = textAlternative(`<p>${'word '.repeat(60)}</p>`);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(78);
  });

  it('tells an empty editor from one with text', () => {
    expect(isBlankHtml('<p></p>')).toBe(true);
    expect(isBlankHtml('<p><br></p>')).toBe(true);
    expect(isBlankHtml('<p>x</p>')).toBe(false);
  });
});
