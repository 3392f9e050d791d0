import { Controller, Get, Inject, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ProducerConfig } from '@email-core/config';
import { PRODUCER_CONFIG } from '../config.module';
import { isOpsOperator } from '../ops/ops-access';
import type { AuthUser } from './auth-user';
import { CurrentUser } from './current-user.decorator';
import { JwtAuthGuard } from './jwt-auth.guard';
import { MeDto } from './me.dto';
import { GetMeQuery } from './queries/get-me/get-me.query';

@ApiTags('auth')
@ApiBearerAuth()
@Controller('me')
@UseGuards(JwtAuthGuard)
export class MeController {
  constructor(
    private readonly queries: QueryBus,
    @Inject(PRODUCER_CONFIG) private readonly config: ProducerConfig,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The signed-in user; 401 UNAUTHENTICATED without a valid access token' })
  @ApiOkResponse({ type: MeDto })
  async me(@CurrentUser() user: AuthUser): Promise<MeDto> {
    const view = await this.queries.execute(new GetMeQuery(user.id));
    return { ...view, operator: isOpsOperator(this.config.ops, view.email) };
  }
}
