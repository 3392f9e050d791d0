import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import {
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { DemoImapSettingsDto } from './get-demo-imap/demo-imap.dto';
import { GetDemoImapQuery } from './get-demo-imap/get-demo-imap.query';

/** Development helpers for the dashboard; each answers 404 outside `NODE_ENV=development`. */
@ApiTags('dev')
@Controller('dev')
export class DevController {
  constructor(private readonly queries: QueryBus) {}

  @Get('demo-imap')
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: "Development only: the stack's demo IMAP mailbox, as POST /accounts/imap takes it",
    description:
      "`npm start` fills a demo mailbox on the stack's mail server and passes its settings to the producer " +
      '(`DEMO_IMAP_*`); the dashboard\'s "Use the demo mailbox" fills the Connect IMAP form with them. 404 ' +
      'whenever `NODE_ENV` is not `development` or no demo mailbox is configured.',
  })
  @ApiOkResponse({ type: DemoImapSettingsDto })
  @ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED: no valid access token' })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: not development, or no demo mailbox' })
  demoImap(): Promise<DemoImapSettingsDto> {
    return this.queries.execute(new GetDemoImapQuery());
  }
}
