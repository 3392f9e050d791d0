import { describe, expect, it } from '@jest/globals';
import { cidReferences, contentIdKey } from './content-id';

describe('cid: references of a mail body', () => {
  it('names each Content-ID once, as a key: URL-decoded, without angle brackets, without case', () => {
    const html = `<img src="cid:logo@contoso.example"><img src='CID:Logo@Contoso.Example'>
      <img src=cid:chart%201@x><p style="background:url(cid:bg@x)">cid: alone</p>`;
    expect(cidReferences(html)).toEqual(['logo@contoso.example', 'chart 1@x', 'bg@x']);
  });

  it('matches the Content-ID the API lists for the attachment', () => {
    expect(contentIdKey('<Logo@Contoso.Example>')).toBe(contentIdKey('cid:logo@contoso.example'));
    expect(contentIdKey('cid:%3Cimage001.png%4001DA%3E')).toBe('image001.png@01da');
    expect(contentIdKey('cid:100%')).toBe('100%');
  });
});
