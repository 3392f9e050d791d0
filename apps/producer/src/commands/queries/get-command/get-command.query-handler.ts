import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { MailCommandsRepository, type MailCommandView } from '@email-core/database';
import { CommandErrors } from '../../command-errors';
import { GetCommandQuery } from './get-command.query';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Someone else's command, an unknown id and a malformed one all read as COMMAND_NOT_FOUND. */
@QueryHandler(GetCommandQuery)
export class GetCommandQueryHandler implements IQueryHandler<GetCommandQuery> {
  constructor(private readonly commands: MailCommandsRepository) {}

  async execute({ userId, commandId }: GetCommandQuery): Promise<MailCommandView> {
    if (!UUID.test(commandId)) throw CommandErrors.commandNotFound();
    const command = await this.commands.findForUser(userId, commandId.toLowerCase());
    if (!command) throw CommandErrors.commandNotFound();
    return command;
  }
}
