import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ConsumerGroups, systemMailSchema, Topics } from '@email-core/contracts';
import { runConsumer } from '@email-core/kafka';
import { TopicConsumer } from '../messaging/topic-consumer';
import { TopicConsumers } from '../messaging/topic-consumers';
import { SendSystemMailCommand } from './send-system-mail/send-system-mail.command';

/** `system.mail` from Kafka to SendSystemMail; the runner validates, retries with backoff, dead-letters, commits. */
@Injectable()
export class SystemMailConsumer extends TopicConsumer {
  constructor(consumers: TopicConsumers, commandBus: CommandBus) {
    super(consumers, {
      context: 'SystemMailConsumer',
      name: 'system-mail consumer',
      group: ConsumerGroups.mailer,
      topic: Topics.systemMail,
      start: (shared) =>
        runConsumer({
          ...shared,
          schema: systemMailSchema,
          handle: async (mail) => {
            await commandBus.execute(new SendSystemMailCommand(mail));
          },
        }),
    });
  }
}
