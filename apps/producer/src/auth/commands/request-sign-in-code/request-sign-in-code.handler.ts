import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { CodeMail } from '../../codes/code-mail';
import { CodeThrottle } from '../../codes/code-throttle';
import { RequestSignInCodeCommand } from './request-sign-in-code.command';

/**
 * Sends a sign-in code to an address, known or not (the first sign-in creates the user): nothing here looks the
 * address up, so the answer and its timing are the same for both. A new code replaces the address's last one.
 */
@CommandHandler(RequestSignInCodeCommand)
export class RequestSignInCodeHandler implements ICommandHandler<RequestSignInCodeCommand, void> {
  constructor(
    private readonly throttle: CodeThrottle,
    private readonly codeMail: CodeMail,
    private readonly dataSource: DataSource,
  ) {}

  async execute({ email, ip }: RequestSignInCodeCommand): Promise<void> {
    await this.throttle.admitRequest(ip, email);
    const addMail = await this.codeMail.prepareSignIn(email);
    await this.dataSource.transaction(addMail);
    this.codeMail.committed();
  }
}
