import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Kafka } from 'kafkajs';
import type { ConsumerConfig } from '@email-core/config';
import { mailCommandQueuedSchema, Topics } from '@email-core/contracts';
import { KafkaPublisher, KafkaWorker, runConsumer } from '@email-core/kafka';
import { kafkaLog } from '../messaging/kafka-log';
import { KafkaTopics } from '../messaging/kafka-topics';
import { CONSUMER_CONFIG, KAFKA } from '../messaging/messaging.tokens';
import { COMMAND_SETTINGS, type CommandSettings } from './commands.settings';
import { ExecuteMailCommandCommand } from './execute-mail-command/execute-mail-command.command';

export const MAIL_COMMANDS_GROUP = 'email-core-mail-commands';

/**
 * `mail.command` from Kafka to ExecuteMailCommand; the runner validates, retries and commits. The last delivery
 * before the dead-letter topic is flagged, so the command ends `failed` instead of staying `sent` forever.
 */
@Injectable()
export class MailCommandsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('MailCommandsConsumer');
  private readonly worker: KafkaWorker;

  constructor(
    @Inject(KAFKA) kafka: Kafka,
    @Inject(CONSUMER_CONFIG) config: ConsumerConfig,
    @Inject(COMMAND_SETTINGS) settings: CommandSettings,
    publisher: KafkaPublisher,
    topics: KafkaTopics,
    commandBus: CommandBus,
  ) {
    this.worker = new KafkaWorker({
      name: 'mail-commands consumer',
      logger: this.logger,
      ready: () => topics.ready(),
      start: () =>
        runConsumer({
          kafka,
          groupId: topics.group(MAIL_COMMANDS_GROUP),
          topic: topics.name(Topics.mailCommands),
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
          publisher,
          retryTopic: topics.name(Topics.retry),
          deadLetterTopic: topics.name(Topics.deadLetter),
          retry: config.consumers.retry,
          sessionTimeoutMs: config.consumers.sessionTimeoutMs,
          partitionsConsumedConcurrently: settings.concurrentPartitions,
          log: kafkaLog(this.logger),
        }),
    });
  }

  onApplicationBootstrap(): void {
    this.worker.begin();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.stop();
  }
}
