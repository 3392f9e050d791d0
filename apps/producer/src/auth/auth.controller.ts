import { Body, Controller, Header, HttpCode, Inject, Ip, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiCookieAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AppError } from '../http/app-error';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { LogOutCommand } from './commands/log-out/log-out.command';
import { RefreshSessionCommand } from './commands/refresh-session/refresh-session.command';
import { RequestSignInCodeCommand } from './commands/request-sign-in-code/request-sign-in-code.command';
import {
  codeRequestedOpenApi,
  codeRequestedResponse,
  requestSignInCodeOpenApi,
  requestSignInCodeSchema,
  type CodeRequestedResponse,
  type RequestSignInCodeRequest,
} from './commands/request-sign-in-code/request-sign-in-code.dto';
import { SignInCommand } from './commands/sign-in/sign-in.command';
import { signInRequestSchema, type SignInRequest } from './commands/sign-in/sign-in.dto';
import { SignUpCommand } from './commands/sign-up/sign-up.command';
import { signUpRequestSchema, type SignUpRequest } from './commands/sign-up/sign-up.dto';
import { VerifySignInCodeCommand } from './commands/verify-sign-in-code/verify-sign-in-code.command';
import {
  verifySignInCodeOpenApi,
  verifySignInCodeSchema,
  type VerifySignInCodeRequest,
} from './commands/verify-sign-in-code/verify-sign-in-code.dto';
import { credentialsOpenApi } from './credentials.schema';
import type { ProducerConfig } from '@email-core/config';
import { PRODUCER_CONFIG } from '../config.module';
import { REFRESH_COOKIE_NAME, RefreshCookie } from './session/refresh-cookie';
import { sessionResponseOpenApi, toSessionResponse, type SessionResponse } from './session-response';

/**
 * `/api/v1/auth/*`: validates, dispatches each use case on the CommandBus, and maps the result: the access
 * token to the body, the refresh token to its cookie.
 */
@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly commands: CommandBus,
    private readonly cookie: RefreshCookie,
    @Inject(PRODUCER_CONFIG) private readonly config: ProducerConfig,
  ) {}

  @Post('signup')
  @HttpCode(201)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Create an account; 409 EMAIL_TAKEN, 429 RATE_LIMITED, 400 VALIDATION_FAILED' })
  @ApiBody({ schema: credentialsOpenApi })
  @ApiCreatedResponse({
    description: 'signed in; sets the ec_refresh cookie',
    schema: sessionResponseOpenApi,
  })
  async signUp(
    @Body(new ZodValidationPipe(signUpRequestSchema)) body: SignUpRequest,
    @Ip() ip: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SessionResponse> {
    const session = await this.commands.execute(new SignUpCommand(body.email, body.password, ip));
    this.cookie.set(res, session.refresh);
    return toSessionResponse(session);
  }

  @Post('signin')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Sign in; 401 INVALID_CREDENTIALS, 429 RATE_LIMITED (Retry-After), 400 VALIDATION_FAILED',
  })
  @ApiBody({ schema: credentialsOpenApi })
  @ApiOkResponse({ description: 'signed in; sets the ec_refresh cookie', schema: sessionResponseOpenApi })
  async signIn(
    @Body(new ZodValidationPipe(signInRequestSchema)) body: SignInRequest,
    @Ip() ip: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SessionResponse> {
    const session = await this.commands.execute(new SignInCommand(body.email, body.password, ip));
    this.cookie.set(res, session.refresh);
    return toSessionResponse(session);
  }

  @Post('code/request')
  @HttpCode(202)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary:
      'Email a 6-digit sign-in code (valid 10 minutes; a new one replaces the last); always 202 with the same body, ' +
      'whether the address has an account or not; 429 RATE_LIMITED (Retry-After: 3 per address per 15 minutes, ' +
      'and a per-IP limit), 400 VALIDATION_FAILED',
  })
  @ApiBody({ schema: requestSignInCodeOpenApi })
  @ApiAcceptedResponse({
    description: 'a code is on its way if the address receives mail',
    schema: codeRequestedOpenApi,
  })
  async requestCode(
    @Body(new ZodValidationPipe(requestSignInCodeSchema)) body: RequestSignInCodeRequest,
    @Ip() ip: string,
  ): Promise<CodeRequestedResponse> {
    await this.commands.execute(new RequestSignInCodeCommand(body.email, ip));
    return codeRequestedResponse(this.config.codes.signInTtlSeconds);
  }

  @Post('code/verify')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary:
      'Sign in with a mailed code (a first sign-in creates the user, already verified); 400 CODE_INVALID ' +
      '(wrong, used, replaced, or none for this address), CODE_EXPIRED, CODE_ATTEMPTS_EXCEEDED (5 wrong tries ' +
      'burn a code), VALIDATION_FAILED; 429 RATE_LIMITED (Retry-After)',
  })
  @ApiBody({ schema: verifySignInCodeOpenApi })
  @ApiOkResponse({ description: 'signed in; sets the ec_refresh cookie', schema: sessionResponseOpenApi })
  async verifyCode(
    @Body(new ZodValidationPipe(verifySignInCodeSchema)) body: VerifySignInCodeRequest,
    @Ip() ip: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SessionResponse> {
    const session = await this.commands.execute(new VerifySignInCodeCommand(body.email, body.code, ip));
    this.cookie.set(res, session.refresh);
    return toSessionResponse(session);
  }

  @Post('refresh')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiCookieAuth(REFRESH_COOKIE_NAME)
  @ApiOperation({
    summary: 'Rotate the refresh cookie and get a new access token; 401 REFRESH_INVALID or REFRESH_REUSED',
  })
  @ApiOkResponse({ description: 'sets a new ec_refresh cookie', schema: sessionResponseOpenApi })
  async refresh(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<SessionResponse> {
    try {
      const session = await this.commands.execute(new RefreshSessionCommand(this.cookie.read(req)));
      this.cookie.set(res, session.refresh);
      return toSessionResponse(session);
    } catch (err) {
      // a refresh token that no longer works is dropped from the browser too
      if (err instanceof AppError && err.kind === 'unauthenticated') this.cookie.clear(res);
      throw err;
    }
  }

  @Post('logout')
  @HttpCode(204)
  @ApiCookieAuth(REFRESH_COOKIE_NAME)
  @ApiOperation({ summary: 'Revoke the current session and clear the refresh cookie' })
  @ApiNoContentResponse({ description: 'signed out (also when there was no session)' })
  async logOut(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.commands.execute(new LogOutCommand(this.cookie.read(req)));
    this.cookie.clear(res);
  }
}
