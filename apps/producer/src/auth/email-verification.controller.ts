import { Body, Controller, Header, HttpCode, Ip, Post, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import type { AuthUser } from './auth-user';
import { ResendVerificationCommand } from './commands/resend-verification/resend-verification.command';
import { VerifyEmailCommand, type EmailVerified } from './commands/verify-email/verify-email.command';
import {
  emailVerifiedOpenApi,
  verifyEmailOpenApi,
  verifyEmailSchema,
  type VerifyEmailRequest,
} from './commands/verify-email/verify-email.dto';
import { CurrentUser } from './current-user.decorator';
import { JwtAuthGuard } from './jwt-auth.guard';

/** `/api/v1/auth/verify-email*`: the signed-in user proves their address with the code sign-up mailed them. */
@ApiTags('auth')
@ApiBearerAuth()
@Controller('auth/verify-email')
@UseGuards(JwtAuthGuard)
export class EmailVerificationController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary:
      "Verify the signed-in user's address with the mailed code (answers the time it is verified since; " +
      'already verified: that time); 400 CODE_INVALID, CODE_EXPIRED, CODE_ATTEMPTS_EXCEEDED, VALIDATION_FAILED; ' +
      '401 UNAUTHENTICATED; 429 RATE_LIMITED',
  })
  @ApiBody({ schema: verifyEmailOpenApi })
  @ApiOkResponse({ description: 'the address is verified', schema: emailVerifiedOpenApi })
  verify(
    @CurrentUser() user: AuthUser,
    @Body(new ZodValidationPipe(verifyEmailSchema)) body: VerifyEmailRequest,
    @Ip() ip: string,
  ): Promise<EmailVerified> {
    return this.commands.execute(new VerifyEmailCommand(user.id, body.code, ip));
  }

  @Post('resend')
  @HttpCode(202)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary:
      'Mail a new verification code (it replaces the last one); 409 EMAIL_ALREADY_VERIFIED; 429 RATE_LIMITED ' +
      '(3 per 15 minutes, Retry-After)',
  })
  @ApiAcceptedResponse({ description: 'a new code is on its way' })
  async resend(@CurrentUser() user: AuthUser): Promise<void> {
    await this.commands.execute(new ResendVerificationCommand(user.id));
  }
}
