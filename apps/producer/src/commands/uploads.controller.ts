import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiQuery,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import {
  MAX_ATTACHMENT_BYTES,
  MAX_INLINE_ATTACHMENT_BYTES,
  MAX_PENDING_UPLOAD_BYTES,
  UPLOAD_CHUNK_MAX_BYTES,
  UPLOAD_TTL_HOURS,
} from '@email-core/contracts';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { AppendUploadChunkCommand } from './commands/append-upload-chunk/append-upload-chunk.command';
import { CreateUploadSessionCommand } from './commands/create-upload-session/create-upload-session.command';
import { CreateUploadCommand } from './commands/create-upload/create-upload.command';
import { DeleteUploadCommand } from './commands/delete-upload/delete-upload.command';
import { GetUploadSessionQuery } from './queries/get-upload-session/get-upload-session.query';
import {
  attachmentContentType,
  UploadDto,
  uploadQuerySchema,
  UploadSessionDto,
  UploadSessionRequestDto,
  uploadSessionRequestSchema,
  type UploadQuery,
  type UploadSessionRequest,
} from './upload.dto';
import { UPLOADS_ROUTE } from './upload-body';

/** Attachments uploaded ahead of the command that sends them (docs/mail-actions.md). */
@ApiTags('commands')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED: no valid access token (the body is not read)' })
@UseGuards(JwtAuthGuard)
@Controller(UPLOADS_ROUTE)
export class UploadsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Upload an attachment: its raw bytes as the body, its type as Content-Type',
    description:
      `At most ${MAX_INLINE_ATTACHMENT_BYTES} bytes. Answers an \`uploadId\`; a send, reply or forward then ` +
      `lists \`{ "uploadId": "…" }\` among its attachments. An upload is kept ${UPLOAD_TTL_HOURS} hours, for ` +
      'one command: the command takes its bytes.',
  })
  @ApiQuery({ name: 'name', type: String, description: 'the file name the recipient sees', required: true })
  @ApiConsumes('application/octet-stream')
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiCreatedResponse({ type: UploadDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: no name, or an empty body' })
  @ApiConflictResponse({ description: 'TOO_MANY_UPLOADS: too many uploads wait for their command' })
  @ApiPayloadTooLargeResponse({ description: 'ATTACHMENT_TOO_LARGE (answered before the rest is read)' })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After' })
  async upload(
    @CurrentUser() user: AuthUser,
    @Query(new ZodValidationPipe(uploadQuerySchema)) query: UploadQuery,
    @Req() req: Request,
  ): Promise<UploadDto> {
    const content: unknown = req.body;
    const stored = await this.commands.execute(
      new CreateUploadCommand(user.id, {
        name: query.name,
        contentType: attachmentContentType(req.headers['content-type']),
        content: Buffer.isBuffer(content) ? content : Buffer.alloc(0),
      }),
    );
    return UploadDto.from(stored);
  }

  @Post('sessions')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Open an upload session for a file sent in chunks (up to 150 MB)',
    description:
      `Announces the file (name, type, size up to ${MAX_ATTACHMENT_BYTES} bytes); its bytes then go in order with ` +
      `\`PUT /uploads/{uploadId}\` and \`Content-Range\`, at most ${UPLOAD_CHUNK_MAX_BYTES} bytes each. Once complete ` +
      'it is named in a command like any upload. Counts against the pending quotas: 50 uploads and ' +
      `${MAX_PENDING_UPLOAD_BYTES} announced bytes per user. See docs/attachments.md.`,
  })
  @ApiBody({ type: UploadSessionRequestDto })
  @ApiCreatedResponse({ type: UploadSessionDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED' })
  @ApiConflictResponse({ description: 'TOO_MANY_UPLOADS or TOO_MANY_UPLOAD_BYTES' })
  @ApiPayloadTooLargeResponse({ description: 'ATTACHMENT_TOO_LARGE: over 150 MB' })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After' })
  async createSession(
    @CurrentUser() user: AuthUser,
    @Body(new ZodValidationPipe(uploadSessionRequestSchema)) body: UploadSessionRequest,
  ): Promise<UploadSessionDto> {
    const created = await this.commands.execute(
      new CreateUploadSessionCommand(user.id, {
        name: body.name,
        contentType: attachmentContentType(body.contentType),
        size: body.size,
      }),
    );
    return UploadSessionDto.session(created);
  }

  @Put(':id')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send a chunk of an upload session: its raw bytes, where they go in Content-Range',
    description:
      `At most ${UPLOAD_CHUNK_MAX_BYTES} bytes, starting exactly at the session's \`received\` (chunks go in ` +
      'order). A chunk sent again after its answer was lost is answered as stored. Answers where the session stands.',
  })
  @ApiHeader({ name: 'content-range', required: true, description: 'bytes <first>-<last>/<size>' })
  @ApiConsumes('application/octet-stream')
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiOkResponse({ type: UploadSessionDto })
  @ApiBadRequestResponse({ description: 'INVALID_CONTENT_RANGE' })
  @ApiNotFoundResponse({ description: 'UPLOAD_NOT_FOUND' })
  @ApiPayloadTooLargeResponse({ description: 'CHUNK_TOO_LARGE (answered before the rest is read)' })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After' })
  async putChunk(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Headers('content-range') contentRange: string | undefined,
    @Req() req: Request,
  ): Promise<UploadSessionDto> {
    const content: unknown = req.body;
    const session = await this.commands.execute(
      new AppendUploadChunkCommand(
        user.id,
        id,
        contentRange,
        Buffer.isBuffer(content) ? content : Buffer.alloc(0),
      ),
    );
    return UploadSessionDto.session(session);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Where an upload session stands: resume it from `received`' })
  @ApiOkResponse({ type: UploadSessionDto })
  @ApiNotFoundResponse({ description: 'UPLOAD_NOT_FOUND' })
  async getSession(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<UploadSessionDto> {
    return UploadSessionDto.session(await this.queries.execute(new GetUploadSessionQuery(user.id, id)));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Drop a waiting upload (a session or a one-request upload): its bytes go, the quotas are freed',
  })
  @ApiNoContentResponse({ description: 'deleted' })
  @ApiNotFoundResponse({ description: 'UPLOAD_NOT_FOUND: unknown, expired, sent, or not yours' })
  async remove(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<void> {
    await this.commands.execute(new DeleteUploadCommand(user.id, id));
  }
}
