import { Inject, Logger, Optional } from '@nestjs/common';
import {
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import type { ProducerConfig } from '@email-core/config';
import { REALTIME_PATH, type DomainEvent } from '@email-core/contracts';
import type { AuthUser } from '../auth/auth-user';
import { PRODUCER_CONFIG } from '../config.module';
import { ProducerMetrics } from '../metrics/producer-metrics';
import { userRoom } from './rooms';
import { connectError, SocketAuthenticator, type ConnectError } from './socket-auth';
import { SocketOrigins } from './socket-cors';

interface SocketData {
  user: AuthUser;
  expiresAt: number | undefined;
}

type RealtimeSocket = Socket<
  Record<string, never>,
  Record<string, (event: DomainEvent) => void>,
  never,
  SocketData
>;
type RealtimeServer = Server<
  Record<string, never>,
  Record<string, (event: DomainEvent) => void>,
  never,
  SocketData
>;

/** the longest a timer can wait (about 24.8 days); an access token lives 15 minutes */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The dashboards' socket (socket.io on the API's own HTTP server, at REALTIME_PATH). The handshake must carry a
 * valid access token; the socket joins its user's room and nothing else, and is closed when the token expires
 * (the client reconnects with a fresh one). Clients send nothing: events flow one way, from RealtimeEventsConsumer
 * through `emitToUser`.
 */
@WebSocketGateway({
  path: REALTIME_PATH,
  serveClient: false,
  // clients never send payloads; anything large is not a legitimate frame
  maxHttpBufferSize: 16 * 1024,
})
export class RealtimeGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger('Realtime');
  private readonly origins: SocketOrigins;
  private server: RealtimeServer | undefined;
  private readonly expiryTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    @Inject(PRODUCER_CONFIG) config: ProducerConfig,
    private readonly authenticator: SocketAuthenticator,
    @Optional() private readonly metrics?: ProducerMetrics,
  ) {
    this.origins = new SocketOrigins(config.corsOrigins, config.publicBaseUrl);
  }

  afterInit(server: RealtimeServer): void {
    this.server = server;
    // the sockets admitted (origin and token checked), read at each scrape: never a count that can drift
    this.metrics?.countSocketsWith(() => server.sockets.sockets.size);
    server.engine.use(this.origins.middleware());
    server.use((socket, next) => {
      this.admit(socket).then(
        () => next(),
        (err: ConnectError) => next(err),
      );
    });
    this.logger.log(`real-time socket at ${REALTIME_PATH}`);
  }

  /** The handshake: the origin (for browsers), then the access token, as the REST API checks it. */
  private async admit(socket: RealtimeSocket): Promise<void> {
    const { headers } = socket.handshake;
    if (!this.origins.allows(headers.origin, headers.host)) {
      throw connectError('ORIGIN_NOT_ALLOWED', 'this origin may not open the real-time socket');
    }
    const identity = await this.authenticator.authenticate(socket.handshake);
    socket.data.user = identity.user;
    socket.data.expiresAt = identity.expiresAt;
  }

  async handleConnection(socket: RealtimeSocket): Promise<void> {
    const { user, expiresAt } = socket.data;
    await socket.join(userRoom(user.id));
    if (expiresAt !== undefined) {
      // An access token is not valid forever; neither is the socket it opened (a logged-out session stops here).
      const timer = setTimeout(
        () => socket.disconnect(true),
        Math.min(Math.max(expiresAt - Date.now(), 0), MAX_TIMER_MS),
      );
      timer.unref();
      this.expiryTimers.set(socket.id, timer);
    }
  }

  handleDisconnect(socket: RealtimeSocket): void {
    clearTimeout(this.expiryTimers.get(socket.id));
    this.expiryTimers.delete(socket.id);
  }

  /**
   * One event to the sockets of the user it belongs to (on this instance), under its type as event name, and a log
   * line saying so (under the event's correlation id; `sync.progress`, a line per page of a sync, at debug).
   */
  emitToUser(event: DomainEvent): void {
    if (!this.server) return;
    const room = userRoom(event.userId);
    this.server.to(room).emit(event.type, event);
    const sockets = this.server.sockets.adapter.rooms.get(room)?.size ?? 0;
    const line =
      `socket emit ${event.type} of account ${event.accountId} to user ${event.userId}'s room ` +
      `(${sockets} socket(s))${'seq' in event ? ` up to seq ${event.seq}` : ''}`;
    if (event.type === 'sync.progress') this.logger.debug(line);
    else this.logger.log(line);
  }
}
