import type { ZodTypeAny } from 'zod';
import {
  accountStatusSchema,
  mailCommandQueuedSchema,
  subscriptionDeleteSchema,
  syncCompletedSchema,
  syncProgressSchema,
  syncRequestedSchema,
  systemMailSchema,
  Topics,
  type TopicName,
} from '@email-core/contracts';

/** The schema each message type must satisfy before the relay lets it out. */
const schemaByType: Record<string, ZodTypeAny> = {
  'sync.requested': syncRequestedSchema,
  'sync.progress': syncProgressSchema,
  'sync.completed': syncCompletedSchema,
  'account.status': accountStatusSchema,
  'subscription.delete': subscriptionDeleteSchema,
  'mail.command': mailCommandQueuedSchema,
  'system.mail': systemMailSchema,
};

const knownTopics = new Set<string>(Object.values(Topics));

export function isKnownTopic(topic: string): topic is TopicName {
  return knownTopics.has(topic);
}

/** null when the payload is a valid message of its type; otherwise why not (paths and codes, never values) */
export function outboxPayloadProblem(type: string, payload: unknown): string | null {
  const schema = schemaByType[type];
  if (!schema) return `no schema for message type "${type}"`;
  const result = schema.safeParse(payload);
  if (result.success) return null;
  return result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.code}`).join('; ');
}
