import { Command } from '@nestjs/cqrs';

export interface EmailVerified {
  emailVerifiedAt: string;
}

export class VerifyEmailCommand extends Command<EmailVerified> {
  constructor(
    readonly userId: string,
    readonly code: string,
    readonly ip: string,
  ) {
    super();
  }
}
