import { Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Writable } from 'node:stream';
import { runWithCorrelation } from './correlation';
import { AppLogger } from './index';
import { withLogging } from './logging.module';
import { runWithRequestId } from './request-id';

@Module({})
class EmptyAppModule {}

describe("withLogging (an app with nestjs-pino behind Nest's Logger)", () => {
  it("writes every `new Logger(context)` call through pino: context, level names, ids, redaction; Nest's own boot lines too", async () => {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    });
    const app = await NestFactory.createApplicationContext(
      withLogging(
        { module: EmptyAppModule },
        { app: 'spec-app', level: 'debug', format: 'json', destination },
      ),
      { bufferLogs: true },
    );
    app.useLogger(app.get(AppLogger));
    const logger = new Logger('SpecContext');
    runWithRequestId('req-9', () =>
      runWithCorrelation('cid-9', () => logger.log({ password: 'P-1' }, 'hello')),
    );
    logger.warn('careful');
    logger.debug('details');
    logger.verbose('not at debug');
    logger.error('failed', 'Error: failed\n    at somewhere');
    await app.close();
    const lines = chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const mine = lines.filter((l) => l.context === 'SpecContext');
    expect(mine.map((l) => [l.level, l.msg])).toEqual([
      ['info', 'hello'],
      ['warn', 'careful'],
      ['debug', 'details'],
      ['error', 'failed'],
    ]);
    expect(mine[0]).toEqual(
      expect.objectContaining({
        app: 'spec-app',
        reqId: 'req-9',
        correlationId: 'cid-9',
        password: '[Redacted]',
      }),
    );
    expect(mine[3].err).toEqual(
      expect.objectContaining({ stack: expect.stringContaining('at somewhere') as string }),
    );
    // Nest's own lines, buffered until useLogger, came out through pino as well
    expect(lines.some((l) => l.context === 'InstanceLoader')).toBe(true);
  });
});
