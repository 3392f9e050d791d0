import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ApplyPokeHandler } from './apply-poke/apply-poke.handler';
import { MailboxPokesConsumer } from './mailbox-pokes.consumer';

/**
 * Live changes: the `mailbox.poke` consumer (coalesced per account) and the ApplyPoke use case, which runs a round
 * of the mirror core (`mirror`, the one MirrorModule AppModule built).
 */
@Module({})
export class PokesModule {
  static forRoot(mirror: DynamicModule): DynamicModule {
    return {
      module: PokesModule,
      imports: [CqrsModule, mirror],
      providers: [ApplyPokeHandler, MailboxPokesConsumer],
    };
  }
}
