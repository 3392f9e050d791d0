import { Module } from '@nestjs/common';
import { EmulatorHealthController } from './emulator-health.controller';

@Module({ controllers: [EmulatorHealthController] })
export class AppModule {}
