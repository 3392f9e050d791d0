import { z } from 'zod';

/** Headers every message carries; payload schemas live beside their topic and include a `v` field. */
export const messageHeadersSchema = z.object({
  'message-id': z.string().uuid(),
  'message-type': z.string().min(1),
  'produced-at': z.string().datetime(),
});
export type MessageHeaders = z.infer<typeof messageHeadersSchema>;
