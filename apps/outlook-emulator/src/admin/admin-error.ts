import { HttpException } from '@nestjs/common';
import type { z } from 'zod';

/** admin API errors: `{error: <stable code>, message}` */
export class AdminError extends HttpException {
  constructor(status: number, code: string, message: string) {
    super({ error: code, message }, status);
  }
}

export function parseBody<T extends z.ZodTypeAny>(schema: T, body: unknown): z.output<T> {
  const r = schema.safeParse(body ?? {});
  if (!r.success) {
    const detail = r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    throw new AdminError(400, 'invalid_request', detail);
  }
  return r.data as z.output<T>;
}
