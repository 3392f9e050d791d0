import { Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { createTransport } from 'nodemailer';
import type { ConsumerConfig } from '@email-core/config';
import { MAIL_TRANSPORT, smtpOptions, type MailTransport } from './mail-transport';
import { SendSystemMailHandler } from './send-system-mail/send-system-mail.handler';
import { SystemMailConsumer } from './system-mail.consumer';

export interface MailerModuleOptions {
  /** instead of SMTP through `SMTP_URL` (tests: nodemailer's stream transport) */
  transport?: MailTransport;
}

/**
 * System mail (issue 18): the `system.mail` consumer (group `email-core-mailer`) and the SendSystemMail use case,
 * which sends through nodemailer to `SMTP_URL`.
 */
@Module({})
export class MailerModule {
  static forRoot(
    config: ConsumerConfig,
    messaging: DynamicModule,
    options: MailerModuleOptions = {},
  ): DynamicModule {
    return {
      module: MailerModule,
      imports: [CqrsModule, messaging],
      providers: [
        {
          provide: MAIL_TRANSPORT,
          useFactory: (): MailTransport & OnApplicationShutdown => {
            const transport = options.transport ?? createTransport(smtpOptions(config.mail));
            return {
              sendMail: (mail) => transport.sendMail(mail),
              close: () => transport.close(),
              onApplicationShutdown: () => transport.close(),
            };
          },
        },
        SendSystemMailHandler,
        SystemMailConsumer,
      ],
    };
  }
}
