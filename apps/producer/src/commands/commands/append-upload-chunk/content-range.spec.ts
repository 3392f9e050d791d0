import { parseContentRange } from './content-range';

describe('parseContentRange', () => {
  it('reads "bytes first-last/size" for a chunk holding exactly those bytes', () => {
    expect(parseContentRange('bytes 0-4194303/41943040', 4194304, 41943040)).toEqual({
      start: 0,
      last: 4194303,
      size: 41943040,
    });
    expect(parseContentRange('bytes 41943039-41943039/41943040', 1, 41943040)).toMatchObject({
      start: 41943039,
    });
  });

  it.each([
    ['missing', undefined, 10, 100],
    ['not bytes', 'items 0-9/100', 10, 100],
    ['an unknown size', 'bytes 0-9/*', 10, 100],
    ['a range without its end', 'bytes 0-/100', 10, 100],
    ['last before first', 'bytes 9-0/100', 10, 100],
    ["another size than the session's", 'bytes 0-9/101', 10, 100],
    ['past the end', 'bytes 95-104/100', 10, 100],
    ['more bytes sent than the range holds', 'bytes 0-9/100', 11, 100],
    ['fewer bytes sent than the range holds', 'bytes 0-9/100', 9, 100],
  ])('refuses %s with 400 INVALID_CONTENT_RANGE', (_what, header, length, size) => {
    expect(() => parseContentRange(header, length, size)).toThrow(
      expect.objectContaining({ code: 'INVALID_CONTENT_RANGE', kind: 'invalid' }) as Error,
    );
  });
});
