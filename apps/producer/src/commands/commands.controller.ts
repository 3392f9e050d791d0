import { Body, Controller, Get, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { mailCommandRequestSchema, type MailCommandRequest } from '@email-core/contracts';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { CommandDto, mailCommandRequestOpenApi } from './command.dto';
import { SubmitMailCommand } from './commands/submit-mail-command/submit-mail-command.command';
import { GetCommandQuery } from './queries/get-command/get-command.query';

/** Actions on mail (architecture data flow 8): submit one, read its status. See docs/mail-actions.md. */
@ApiTags('commands')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED: no valid access token' })
@UseGuards(JwtAuthGuard)
@Controller('commands')
export class CommandsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Act on mail: markRead, flag, move, delete, send, reply or forward',
    description:
      'Validated, stored and queued; a worker carries it out at Outlook and `command.status` events on the ' +
      'socket report the outcome. The same `id` with the same request answers 200 with the current status ' +
      'and queues nothing. Bodies up to 4 MiB of JSON; attach files by `uploadId` (`POST /uploads`). The token ' +
      'and the per-user limit are checked before the body is read.',
  })
  @ApiBody({ schema: mailCommandRequestOpenApi })
  @ApiAcceptedResponse({ type: CommandDto, description: 'queued' })
  @ApiOkResponse({ type: CommandDto, description: 'this id was already submitted with this request' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED, NO_RECIPIENTS, INVALID_ATTACHMENT' })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND, MESSAGE_NOT_FOUND, UPLOAD_NOT_FOUND' })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED (per user or per address), with Retry-After' })
  @ApiConflictResponse({ description: 'COMMAND_ID_CONFLICT: the id was used for another request' })
  @ApiPayloadTooLargeResponse({
    description: 'ATTACHMENT_TOO_LARGE (over 3 MB), PAYLOAD_TOO_LARGE (over 4 MiB)',
  })
  @ApiUnprocessableEntityResponse({ description: 'UNKNOWN_FOLDER' })
  async submit(
    @CurrentUser() user: AuthUser,
    @Body(new ZodValidationPipe(mailCommandRequestSchema)) body: MailCommandRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommandDto> {
    const { created, command } = await this.commands.execute(new SubmitMailCommand(user.id, body));
    if (!created) res.status(200);
    return CommandDto.from(command);
  }

  @Get(':id')
  @ApiOperation({ summary: "A command's status" })
  @ApiOkResponse({ type: CommandDto })
  @ApiNotFoundResponse({ description: 'COMMAND_NOT_FOUND' })
  async get(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<CommandDto> {
    return CommandDto.from(await this.queries.execute(new GetCommandQuery(user.id, id)));
  }
}
