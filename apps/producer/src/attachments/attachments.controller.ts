import { Controller, Get, Logger, Param, Res, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import {
  ApiBadGatewayResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { pipeline } from 'node:stream/promises';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { contentDisposition } from './attachment-headers';
import { AttachmentDto, AttachmentListDto } from './attachments.dto';
import { ListAttachmentsQuery } from './queries/list-attachments/list-attachments.query';
import { OpenAttachmentQuery } from './queries/open-attachment/open-attachment.query';

/** A mirrored message's attachments, read from Graph on demand (the mirror stores none). */
@ApiTags('mail')
@ApiBearerAuth()
@ApiParam({
  name: 'messageId',
  description: 'Graph immutable id of a message in one of your accounts, URL-encoded',
})
@ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED: no valid access token' })
@ApiServiceUnavailableResponse({
  description: 'GRAPH_UNAVAILABLE: Outlook throttled or unreachable (Retry-After)',
})
@ApiBadGatewayResponse({ description: 'GRAPH_ERROR: Outlook refused the request' })
@UseGuards(JwtAuthGuard)
@Controller('messages/:messageId/attachments')
export class AttachmentsController {
  private readonly logger = new Logger(AttachmentsController.name);

  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: "A message's attachments: names, types and sizes, never their content" })
  @ApiOkResponse({ type: AttachmentListDto })
  @ApiNotFoundResponse({ description: 'MESSAGE_NOT_FOUND (not in your accounts, or gone from Outlook)' })
  async list(
    @CurrentUser() user: AuthUser,
    @Param('messageId') messageId: string,
  ): Promise<AttachmentListDto> {
    const items = await this.queries.execute(new ListAttachmentsQuery(user.id, messageId));
    return { items: items.map((a) => AttachmentDto.from(a)) };
  }

  @Get(':attachmentId/content')
  @ApiOperation({
    summary: "One attachment's bytes, streamed from Outlook as a download",
    description: '`Content-Disposition: attachment`, `X-Content-Type-Options: nosniff`; nothing is stored.',
  })
  @ApiParam({ name: 'attachmentId', description: 'from the list, URL-encoded' })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ description: "the bytes, with Graph's Content-Type" })
  @ApiNotFoundResponse({ description: 'MESSAGE_NOT_FOUND, ATTACHMENT_NOT_FOUND' })
  async content(
    @CurrentUser() user: AuthUser,
    @Param('messageId') messageId: string,
    @Param('attachmentId') attachmentId: string,
    @Res() res: Response,
  ): Promise<void> {
    const file = await this.queries.execute(new OpenAttachmentQuery(user.id, messageId, attachmentId));
    res.status(200);
    res.setHeader('Content-Type', file.contentType);
    res.setHeader('Content-Disposition', contentDisposition(file.name));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // should a browser open it anyway, it runs nothing and loads nothing
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    res.setHeader('Cache-Control', 'private, no-store');
    if (file.contentLength !== null) res.setHeader('Content-Length', String(file.contentLength));
    try {
      // backpressure both ways; a client that goes away destroys the Graph stream (and frees its permit)
      await pipeline(file.body, res);
    } catch (err) {
      // the headers are out: all that is left is to cut the response short. A client that went away is normal.
      const code = (err as { code?: unknown } | null)?.code;
      if (code !== 'ERR_STREAM_PREMATURE_CLOSE') {
        this.logger.warn(
          `attachment download failed midway: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      res.destroy();
    }
  }
}
