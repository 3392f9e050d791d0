import { Body, Controller, Get, Post, Query, type ExecutionContext } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import { AppError } from './app-error';
import { StrictInputsGuard } from './strict-inputs.guard';

@Controller('t')
class TestController {
  @Get('none')
  none(): void {}

  @Get('one')
  one(@Query('redirect') _redirect: unknown): void {}

  @Get('documented')
  @ApiQuery({ name: 'limit', required: false })
  documented(): void {}

  @Get('whole')
  whole(@Query() _query: unknown): void {}

  @Post('body')
  body(@Body() _body: unknown): void {}
}

function context(method: keyof TestController, req: { query?: unknown; body?: unknown }): ExecutionContext {
  return {
    getType: () => 'http',
    getClass: () => TestController,
    getHandler: () => TestController.prototype[method],
    switchToHttp: () => ({ getRequest: () => req }),
  } as unknown as ExecutionContext;
}

function refusal(method: keyof TestController, req: { query?: unknown; body?: unknown }): unknown {
  try {
    new StrictInputsGuard().canActivate(context(method, req));
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('StrictInputsGuard', () => {
  it('lets through the query keys a route reads or documents, and any key when it takes the whole query', () => {
    expect(refusal('none', { query: {} })).toBeUndefined();
    expect(refusal('one', { query: { redirect: 'true' } })).toBeUndefined();
    expect(refusal('documented', { query: { limit: '5' } })).toBeUndefined();
    expect(refusal('whole', { query: { anything: '1' } })).toBeUndefined();
    expect(refusal('body', { query: {}, body: { x: 1 } })).toBeUndefined();
  });

  it('refuses an unknown query key, or body fields on a route without a body, naming each', () => {
    const err = refusal('one', { query: { redirect: 'true', debug: '1' }, body: { force: true } });
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('VALIDATION_FAILED');
    expect((err as AppError).details).toEqual([
      { path: 'debug', code: 'unrecognized_keys', message: 'unknown query parameter' },
      { path: 'force', code: 'unrecognized_keys', message: 'this route takes no body' },
    ]);
    expect(refusal('none', { query: {}, body: {} })).toBeUndefined();
    expect(refusal('none', { query: {}, body: Buffer.from('raw') })).toBeUndefined();
  });
});
