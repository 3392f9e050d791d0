import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { RealtimeEventsConsumer } from './realtime-events.consumer';
import { RealtimeGateway } from './realtime.gateway';
import { SocketAuthenticator } from './socket-auth';

/**
 * Real-time push to dashboards: the authenticated socket (RealtimeGateway) and the events-topic consumer that
 * feeds it. Every API instance runs both; see docs/realtime.md.
 */
@Module({
  imports: [AuthModule],
  providers: [SocketAuthenticator, RealtimeGateway, RealtimeEventsConsumer],
})
export class RealtimeModule {}
