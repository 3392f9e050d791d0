import { contentDisposition, safeContentType } from './attachment-headers';

describe('attachment headers', () => {
  it('names the file in UTF-8 (RFC 5987) with an ASCII fallback, always as a download', () => {
    expect(contentDisposition('q3.pdf')).toBe(`attachment; filename="q3.pdf"; filename*=UTF-8''q3.pdf`);
    expect(contentDisposition('Über (final) 50%.txt')).toBe(
      `attachment; filename="_ber (final) 50_.txt"; filename*=UTF-8''%C3%9Cber%20%28final%29%2050%25.txt`,
    );
    expect(contentDisposition('a"b\\c.txt')).toBe(
      `attachment; filename="a_b_c.txt"; filename*=UTF-8''a%22b%5Cc.txt`,
    );
  });

  it('cannot be used to inject a header, and never names an empty file', () => {
    const value = contentDisposition('evil\r\nSet-Cookie: x=1.txt');
    expect(value).not.toMatch(/[\r\n]/);
    expect(value).toContain(`filename*=UTF-8''evilSet-Cookie%3A%20x%3D1.txt`);
    expect(contentDisposition('\r\n')).toBe(`attachment; filename="attachment"; filename*=UTF-8''attachment`);
  });

  it('takes the first well-formed media type, else application/octet-stream', () => {
    expect(safeContentType('application/pdf', 'text/plain')).toBe('application/pdf');
    expect(safeContentType('text/plain; charset=utf-8')).toBe('text/plain; charset=utf-8');
    expect(safeContentType(null, 'image/png')).toBe('image/png');
    expect(safeContentType('text/html\r\nX-Evil: 1')).toBe('application/octet-stream');
    expect(safeContentType('not a type', undefined)).toBe('application/octet-stream');
  });
});
