import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { ProducerConfig } from '@email-core/config';

export const PRODUCER_CONFIG = Symbol('PRODUCER_CONFIG');

/** the validated configuration, injectable everywhere as PRODUCER_CONFIG */
@Global()
@Module({})
export class ProducerConfigModule {
  static forRoot(config: ProducerConfig): DynamicModule {
    return {
      module: ProducerConfigModule,
      providers: [{ provide: PRODUCER_CONFIG, useValue: config }],
      exports: [PRODUCER_CONFIG],
    };
  }
}
