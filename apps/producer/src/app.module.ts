import { Module, type DynamicModule } from '@nestjs/common';
import type { ProducerConfig } from '@email-core/config';
import { InfrastructureModule } from '@email-core/health';
import { AuthModule } from './auth/auth.module';
import { ProducerConfigModule } from './config.module';

@Module({})
export class AppModule {
  static forRoot(config: ProducerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ProducerConfigModule.forRoot(config),
        InfrastructureModule.forRoot(config, 'producer'),
        AuthModule,
      ],
    };
  }
}
