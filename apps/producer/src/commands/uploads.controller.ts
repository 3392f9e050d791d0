import { Controller, HttpCode, Post, Query, Req, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiQuery,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { MAX_INLINE_ATTACHMENT_BYTES, UPLOAD_TTL_HOURS } from '@email-core/contracts';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { CreateUploadCommand } from './commands/create-upload/create-upload.command';
import { attachmentContentType, UploadDto, uploadQuerySchema, type UploadQuery } from './upload.dto';
import { UPLOADS_ROUTE } from './upload-body';

/** Attachments uploaded ahead of the command that sends them (docs/mail-actions.md). */
@ApiTags('commands')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED: no valid access token (the body is not read)' })
@UseGuards(JwtAuthGuard)
@Controller(UPLOADS_ROUTE)
export class UploadsController {
  constructor(private readonly commands: CommandBus) {}

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
}
