import { describe, expect, it } from '@jest/globals';
import { imageUrlVerdict, rewriteCssUrls, type UrlVerdict } from './sanitize-css';

/** the CSS as the reader gets it, and how many remote images were blocked */
function rewrite(css: string, allowRemote = false): { css: string; blocked: number } {
  const count = { blocked: 0 };
  return { css: rewriteCssUrls(css, allowRemote, count), blocked: count.blocked };
}

const PNG = 'data:image/png;base64,iVBORw0KGgo=';

describe('mail CSS: URLs in custom properties (issue 16, defect 10)', () => {
  it('blocks and counts a remote url() in a custom property, as the browser keeps it (unquoted, as written)', () => {
    expect(rewrite('--x: url(https://tracker.example/p.png); background: var(--x);')).toEqual({
      css: '--x: none; background: var(--x);',
      blocked: 1,
    });
    expect(rewrite("--hero:url( 'https://tracker.example/a.png' ) no-repeat")).toEqual({
      css: '--hero:none no-repeat',
      blocked: 1,
    });
  });

  it('lets the same URLs through once the user shows images', () => {
    const css = '--x: url(https://img.example/p.png); --y: image-set("https://img.example/b.png" 1x);';
    expect(rewrite(css, true)).toEqual({ css, blocked: 0 });
  });

  it('sees through escapes, which custom properties keep: u\\72l(, \\75rl(, image-s\\65t(', () => {
    expect(rewrite('--x: u\\72l(https://t.example/1.png)')).toEqual({ css: '--x: none', blocked: 1 });
    expect(rewrite('--x: \\75 rl(https://t.example/2.png)')).toEqual({ css: '--x: none', blocked: 1 });
    expect(rewrite('--x: URL(https\\3a //t.example/3.png)')).toEqual({ css: '--x: none', blocked: 1 });
    expect(rewrite('--x: image-s\\65t("https://t.example/4.png" 1x)')).toEqual({
      css: '--x: none',
      blocked: 1,
    });
  });

  it('removes image functions that take bare strings: image-set(), -webkit-image-set(), src(), image()', () => {
    expect(
      rewrite(
        '--a: image-set("https://t.example/a.png" 1x, url(https://t.example/b.png) 2x); ' +
          '--b: -webkit-image-set("//t.example/c.png" 1x); --c: src("https://t.example/d.png"); ' +
          '--d: image("https://t.example/e.png")',
      ),
    ).toEqual({ css: '--a: none; --b: none; --c: none; --d: none', blocked: 5 });
    // one URL that may never load (relative, javascript:) takes the whole function, shown or not
    expect(rewrite('background: image-set("a.png" 1x, "https://ok.example/b.png" 2x)', true)).toEqual({
      css: 'background: none',
      blocked: 0,
    });
  });

  it('finds URLs in var() fallbacks and wherever a declaration is kept unparsed', () => {
    expect(rewrite('background: var(--missing, url(https://t.example/f.png)) no-repeat')).toEqual({
      css: 'background: var(--missing, none) no-repeat',
      blocked: 1,
    });
  });

  it('drops URLs that never load in a mail (relative, javascript:, SVG data), without counting them', () => {
    expect(
      rewrite('--a: url(/api/v1/me); --b: url("javascript:alert(1)"); --c: url(data:image/svg+xml,x)'),
    ).toEqual({
      css: '--a: none; --b: none; --c: none',
      blocked: 0,
    });
  });

  it('keeps raster data images and leaves strings, comments and other functions alone', () => {
    const css = `--logo: url(${PNG}); content: "url(https://not.a.url/x)"; /* url(https://c.example/) */ color: rgb(1 2 3)`;
    expect(rewrite(css)).toEqual({ css, blocked: 0 });
  });

  it('treats a bad URL (a quote or bracket inside an unquoted url) as one that never loads', () => {
    expect(rewrite('--x: url(https://t.example/a"b.png); color: red')).toEqual({
      css: '--x: none; color: red',
      blocked: 0,
    });
  });

  it('still handles what the browser serializes for ordinary properties', () => {
    expect(
      rewrite('background-image: url("https://t.example/bg.png"); border-image: url("a\\"b.png")'),
    ).toEqual({
      css: 'background-image: none; border-image: none',
      blocked: 1,
    });
  });
});

describe('imageUrlVerdict', () => {
  const cases: Array<[string, boolean, UrlVerdict]> = [
    [PNG, false, 'keep'],
    ['https://img.example/a.png', false, 'blocked'],
    ['https://img.example/a.png', true, 'keep'],
    ['//img.example/a.png', true, 'blocked'],
    ['/relative.png', true, 'drop'],
    ['data:image/svg+xml;base64,PHN2Zz4=', true, 'drop'],
  ];
  it.each(cases)('%s (remote allowed: %s) -> %s', (url, allow, verdict) => {
    expect(imageUrlVerdict(url, allow)).toBe(verdict);
  });
});
