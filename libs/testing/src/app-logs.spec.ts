import { parseAppLogs } from './app-logs';

describe('parseAppLogs', () => {
  it('reads JSON lines: message, level, context, correlation id and request id', () => {
    const output = [
      '{"level":"info","time":"2026-12-05T16:00:00.000Z","app":"producer","correlationId":"c-1","context":"GraphWebhook","msg":"webhook accepted 1 notification(s)"}',
      '{"level":"info","time":"2026-12-05T16:00:00.001Z","app":"producer","reqId":"r-9","correlationId":"r-9","msg":"request completed"}',
      '{"level":"warn","msg":"no ids"}',
      '{ not json',
      '',
    ].join('\n');
    expect(parseAppLogs(output).map(({ raw: _raw, ...l }) => l)).toEqual([
      {
        level: 'info',
        context: 'GraphWebhook',
        correlationId: 'c-1',
        reqId: undefined,
        msg: 'webhook accepted 1 notification(s)',
      },
      {
        level: 'info',
        context: undefined,
        correlationId: 'r-9',
        reqId: 'r-9',
        msg: 'request completed',
      },
      { level: 'warn', context: undefined, correlationId: undefined, reqId: undefined, msg: 'no ids' },
    ]);
  });

  it("reads pino-pretty's text (colours or not), leaving its indented fields out", () => {
    const output = [
      '[16:00:00.123] INFO: (cid 6f1c1a52-0f7e-4f39-9d55-3c1cbb2b8a10) [MailboxRound] round for account a: 1 poke(s)',
      '\u001b[32m[16:00:00.124] INFO\u001b[39m: (req r-1) [Realtime] socket emit mail.changed',
      '[16:00:00.124] INFO: (req r-2) (cid c-2) [GraphWebhook] two ids',
      '    err: {',
      '[16:00:00.125] WARN: [KafkaWorkers] no ids here',
    ].join('\n');
    expect(parseAppLogs(output).map(({ raw: _raw, ...l }) => l)).toEqual([
      {
        level: 'INFO',
        correlationId: '6f1c1a52-0f7e-4f39-9d55-3c1cbb2b8a10',
        context: 'MailboxRound',
        msg: 'round for account a: 1 poke(s)',
      },
      {
        level: 'INFO',
        reqId: 'r-1',
        correlationId: 'r-1',
        context: 'Realtime',
        msg: 'socket emit mail.changed',
      },
      { level: 'INFO', reqId: 'r-2', correlationId: 'c-2', context: 'GraphWebhook', msg: 'two ids' },
      { level: 'WARN', context: 'KafkaWorkers', msg: 'no ids here' },
    ]);
  });

  it("reads Nest's console lines (no ids)", () => {
    const output =
      '[Nest] 19731  - 12/05/2026, 3:48:24 PM     LOG [GraphWebhook] webhook accepted 3 lifecycle notification(s)';
    expect(parseAppLogs(output).map(({ raw: _raw, ...l }) => l)).toEqual([
      { level: 'LOG', context: 'GraphWebhook', msg: 'webhook accepted 3 lifecycle notification(s)' },
    ]);
  });
});
