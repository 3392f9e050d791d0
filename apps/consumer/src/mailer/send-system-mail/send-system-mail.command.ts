import { Command } from '@nestjs/cqrs';
import type { SystemMail } from '@email-core/contracts';

export class SendSystemMailCommand extends Command<void> {
  constructor(readonly mail: SystemMail) {
    super();
  }
}
