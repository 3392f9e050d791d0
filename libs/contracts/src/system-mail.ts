import { z } from 'zod';

/**
 * `system.mail` on `Topics.systemMail`: a mail the product sends itself. Written through the outbox in the
 * transaction of the state that needs it; the consumer's mailer renders it (text and HTML) and sends it over SMTP
 * with `Message-ID: <mailId@…>`, so a redelivery or a retry sends the same Message-ID (at least once).
 *
 * The code a mail carries never travels in plain text: `sealedCode` is AES-256-GCM under the token-encryption keys
 * (`TOKEN_ENCRYPTION_KEYS`), bound to the mail (additional data {@link systemMailCodeAad}), so Kafka, the retry
 * and dead-letter topics and the logs hold only ciphertext.
 */
export const SYSTEM_MAIL_TEMPLATES = ['sign-in-code', 'verify-email'] as const;
export type SystemMailTemplate = (typeof SYSTEM_MAIL_TEMPLATES)[number];

export const sealedValueSchema = z
  .object({
    keyId: z.string().min(1).max(64),
    data: z.string().min(1).max(1024),
  })
  .strict();

export const systemMailSchema = z
  .object({
    type: z.literal('system.mail'),
    v: z.literal(1),
    /** one per outbox row: the stable Message-ID of every send of this mail */
    mailId: z.string().uuid(),
    template: z.enum(SYSTEM_MAIL_TEMPLATES),
    to: z.string().email().max(254),
    /** the code, sealed with the token-encryption keys under {@link systemMailCodeAad} */
    sealedCode: sealedValueSchema,
    /** how long the code is valid, for the mail's text */
    validMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60),
    requestedAt: z.string().datetime(),
  })
  .strict();
export type SystemMail = z.infer<typeof systemMailSchema>;

/** The additional authenticated data a mail's code is sealed under: a sealed code opens only for its own mail. */
export function systemMailCodeAad(mailId: string): string {
  return `system-mail:${mailId}`;
}
