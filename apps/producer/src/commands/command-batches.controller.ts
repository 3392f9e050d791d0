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
import { commandBatchRequestSchema, type CommandBatchRequest } from '@email-core/contracts';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { CommandBatchDto, commandBatchRequestOpenApi } from './command-batch.dto';
import { SubmitCommandBatch } from './commands/submit-command-batch/submit-command-batch.command';
import { GetCommandBatchQuery } from './queries/get-command-batch/get-command-batch.query';

/** `POST /commands/batches` (after the commands' limits, its own per-user limit and 4 MiB body: main.ts) */
export const COMMAND_BATCHES_ROUTE = 'commands/batches';

/** A bulk action on a selection of any size (issue 23, multi-select). See docs/mail-actions.md. */
@ApiTags('commands')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED: no valid access token' })
@UseGuards(JwtAuthGuard)
@Controller(COMMAND_BATCHES_ROUTE)
export class CommandBatchesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Mark read, flag, move or delete any number of messages: by id, or by a list selection',
    description:
      'The selection (the list filters minus excluded ids) is resolved by the server on the primary; the ids go ' +
      'in commands of 500, stored and queued together (all or none). One combined status: `GET ' +
      '/commands/batches/:id` and `command.batch.status` events on the socket. The same `id` with the same ' +
      'request answers 200 with the current status and queues nothing.',
  })
  @ApiBody({ schema: commandBatchRequestOpenApi })
  @ApiAcceptedResponse({ type: CommandBatchDto, description: 'queued' })
  @ApiOkResponse({ type: CommandBatchDto, description: 'this id was already submitted with this request' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED' })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND, FOLDER_NOT_FOUND, MESSAGE_NOT_FOUND' })
  @ApiConflictResponse({ description: 'BATCH_ID_CONFLICT: the id was used for another request' })
  @ApiPayloadTooLargeResponse({ description: 'PAYLOAD_TOO_LARGE (over 4 MiB)' })
  @ApiUnprocessableEntityResponse({ description: 'UNKNOWN_FOLDER, NOTHING_SELECTED, BATCH_TOO_LARGE' })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED (per user or per address), with Retry-After' })
  async submit(
    @CurrentUser() user: AuthUser,
    @Body(new ZodValidationPipe(commandBatchRequestSchema)) body: CommandBatchRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommandBatchDto> {
    const { created, batch } = await this.commands.execute(new SubmitCommandBatch(user.id, body));
    if (!created) res.status(200);
    return CommandBatchDto.from(batch);
  }

  @Get(':id')
  @ApiOperation({ summary: "A batch's combined status" })
  @ApiOkResponse({ type: CommandBatchDto })
  @ApiNotFoundResponse({ description: 'BATCH_NOT_FOUND' })
  async get(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<CommandBatchDto> {
    return CommandBatchDto.from(await this.queries.execute(new GetCommandBatchQuery(user.id, id)));
  }
}
