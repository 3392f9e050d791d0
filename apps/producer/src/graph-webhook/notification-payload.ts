import { z } from 'zod';
import { WebhookErrors } from './webhook-errors';

/**
 * What Graph POSTs to the webhook: `{"value": [item, ...]}`, where an item is a change notification or a
 * lifecycle notification, possibly from several subscriptions. Only the fields we use are kept (zod strips the
 * rest: `id`, `tenantId`, `@odata.*`, rich-notification fields), so nothing else can travel on to Kafka.
 */
const subscriptionId = z.string().min(1).max(256);
/** Graph caps a clientState at 128 characters; anything up to 1,024 is read (and will not match) */
const clientState = z.string().max(1024).nullish();

export const changeItemSchema = z.object({
  subscriptionId,
  clientState,
  changeType: z.enum(['created', 'updated', 'deleted']),
  resource: z.string().max(2048),
  resourceData: z.object({ id: z.string().min(1).max(512).optional() }).optional(),
});
export type ChangeItem = z.infer<typeof changeItemSchema>;

export const lifecycleItemSchema = z.object({
  subscriptionId,
  clientState,
  lifecycleEvent: z.enum(['reauthorizationRequired', 'subscriptionRemoved', 'missed']),
});
export type LifecycleItem = z.infer<typeof lifecycleItemSchema>;

const envelopeSchema = z.object({ value: z.array(z.unknown()) });

export interface NotificationBatch {
  changes: ChangeItem[];
  lifecycle: LifecycleItem[];
}

/**
 * The body as the webhook's body reader left it (the raw bytes), or as an already-parsed JSON value, checked
 * against the shapes above. `lifecycle` endpoints take only lifecycle items; the notification endpoint takes
 * both, because Graph sends lifecycle events to `notificationUrl` when a subscription has no
 * `lifecycleNotificationUrl`. Throws 400 `INVALID_JSON` or `INVALID_NOTIFICATION`, and 413
 * `TOO_MANY_NOTIFICATIONS` for more than `maxItems` items (before any item is checked or looked up).
 */
export function parseNotificationBody(
  body: unknown,
  endpoint: 'notifications' | 'lifecycle',
  maxItems: number,
): NotificationBatch {
  const json = Buffer.isBuffer(body) ? parseJson(body) : body;
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) throw WebhookErrors.invalidNotification(describe(envelope.error));
  if (envelope.data.value.length > maxItems) throw WebhookErrors.tooManyNotifications(maxItems);
  const batch: NotificationBatch = { changes: [], lifecycle: [] };
  envelope.data.value.forEach((item, i) => {
    const isLifecycle = typeof item === 'object' && item !== null && 'lifecycleEvent' in item;
    if (!isLifecycle && endpoint === 'lifecycle') {
      throw WebhookErrors.invalidNotification(`value.${i}: not a lifecycle notification`);
    }
    const parsed = (isLifecycle ? lifecycleItemSchema : changeItemSchema).safeParse(item);
    if (!parsed.success) throw WebhookErrors.invalidNotification(describe(parsed.error, `value.${i}`));
    if (isLifecycle) batch.lifecycle.push(parsed.data as LifecycleItem);
    else batch.changes.push(parsed.data as ChangeItem);
  });
  return batch;
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw WebhookErrors.invalidJson();
  }
}

/** paths and rule codes only: a message never echoes a value (it could be a clientState) */
function describe(error: z.ZodError, prefix?: string): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${[prefix, ...i.path].filter((p) => p !== undefined).join('.') || '(root)'}: ${i.code}`)
    .join('; ');
}
