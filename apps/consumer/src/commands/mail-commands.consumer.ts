import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { ConsumerConfig } from '@email-core/config';
import { ConsumerGroups, mailCommandQueuedSchema, Topics } from '@email-core/contracts';
import { runConsumer } from '@email-core/kafka';
import { TopicConsumer } from '../messaging/topic-consumer';
import { TopicConsumers } from '../messaging/topic-consumers';
import { CONSUMER_CONFIG } from '../messaging/messaging.tokens';
import { COMMAND_SETTINGS, type CommandSettings } from './commands.settings';
import { ExecuteMailCommandCommand } from './execute-mail-command/execute-mail-command.command';

/**
 * `mail.command` from Kafka to ExecuteMailCommand; the runner validates, retries and commits. The last delivery
 * before the dead-letter topic is flagged, so the command ends `failed` instead of staying `sent` forever.
 */
@Injectable()
export class MailCommandsConsumer extends TopicConsumer {
  constructor(
    consumers: TopicConsumers,
    @Inject(CONSUMER_CONFIG) config: ConsumerConfig,
    @Inject(COMMAND_SETTINGS) settings: CommandSettings,
    commandBus: CommandBus,
  ) {
    super(consumers, {
      context: 'MailCommandsConsumer',
      name: 'mail-commands consumer',
      group: ConsumerGroups.mailCommands,
      topic: Topics.mailCommands,
      start: (shared) =>
        runConsumer({
          ...shared,
          schema: mailCommandQueuedSchema,
          handle: async (message, ctx) => {
            await commandBus.execute(
              new ExecuteMailCommandCommand(
                message.commandId,
                ctx.attempt >= config.consumers.retry.maxAttempts,
                ctx.signal,
              ),
            );
          },
          partitionsConsumedConcurrently: settings.concurrentPartitions,
        }),
    });
  }
}
