import type { Request, Response } from 'express';
import { AppError } from '../http/app-error';
import { rejectNul } from './reject-nul';

function verdict(originalUrl: string, body?: unknown): unknown {
  let passed: unknown = 'not called';
  rejectNul({ originalUrl, body } as Request, {} as Response, (err?: unknown) => (passed = err));
  return passed;
}

describe('rejectNul', () => {
  it('passes ordinary URLs and bodies, and the webhook raw bytes', () => {
    expect(
      verdict('/api/v1/messages/AAMk%3D/attachments?q=a%20b', { subject: 'hi', to: ['x'] }),
    ).toBeUndefined();
    expect(verdict('/api/v1/graph/notifications', Buffer.from('\u0000'))).toBeUndefined();
  });

  it('refuses a NUL in the path, the query, a body string or a body key, with VALIDATION_FAILED', () => {
    for (const [url, body] of [
      ['/api/v1/messages/%00/attachments', undefined],
      ['/api/v1/accounts?q=a%00', undefined],
      ['/api/v1/commands', { action: 'send', subject: 'a\u0000b' }],
      ['/api/v1/commands', { deep: [[{ ['k\u0000']: 1 }]] }],
    ] as const) {
      const err = verdict(url, body);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('VALIDATION_FAILED');
    }
  });
});
