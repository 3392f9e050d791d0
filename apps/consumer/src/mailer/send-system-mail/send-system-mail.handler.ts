import { Inject, Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { ConsumerConfig } from '@email-core/config';
import { systemMailCodeAad } from '@email-core/contracts';
import { TokenCipher } from '@email-core/crypto';
import { CONSUMER_CONFIG } from '../../messaging/messaging.tokens';
import { MAIL_TRANSPORT, type MailTransport } from '../mail-transport';
import { renderSystemMail } from '../system-mail.render';
import { SendSystemMailCommand } from './send-system-mail.command';

/**
 * Opens the mail's sealed code, renders the text and HTML, and sends it through SMTP with the Message-ID of its
 * outbox row, so a redelivery sends the same Message-ID. A failure throws: the runner retries with backoff, then
 * dead-letters. Logs name the mail id and template only: never the code, never the address.
 */
@CommandHandler(SendSystemMailCommand)
export class SendSystemMailHandler implements ICommandHandler<SendSystemMailCommand, void> {
  private readonly logger = new Logger('Mailer');

  constructor(
    @Inject(CONSUMER_CONFIG) private readonly config: ConsumerConfig,
    @Inject(MAIL_TRANSPORT) private readonly transport: MailTransport,
    private readonly cipher: TokenCipher,
  ) {}

  async execute({ mail }: SendSystemMailCommand): Promise<void> {
    const code = this.cipher.open(mail.sealedCode, systemMailCodeAad(mail.mailId));
    const rendered = renderSystemMail(mail.template, { code, validMinutes: mail.validMinutes });
    const sent = await this.transport.sendMail({
      from: this.config.mail.from,
      to: mail.to,
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      messageId: systemMailMessageId(mail.mailId, this.config.mail.messageIdDomain),
    });
    if (sent.rejected.length > 0 || sent.accepted.length === 0)
      throw new Error(`system mail ${mail.mailId} was refused by the SMTP server`);
    this.logger.log(`system mail ${mail.mailId} (${mail.template}) sent`);
  }
}

/** The Message-ID of every send of one system mail. */
export function systemMailMessageId(mailId: string, domain: string): string {
  return `<${mailId}@${domain}>`;
}
