import { Logger } from '@nestjs/common';
import { WebhookDropLog } from './webhook-drop-log';

describe('WebhookDropLog', () => {
  let lines: string[];
  beforeEach(() => {
    lines = [];
    jest.useFakeTimers();
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((m: unknown) => void lines.push(String(m)));
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('reports the first drops at once, later ones summed at most every 10 s', () => {
    const log = new WebhookDropLog(() => Date.now());
    log.record({ unknownSubscription: 0, clientStateMismatch: 0 });
    expect(lines).toEqual([]);
    log.record({ unknownSubscription: 1, clientStateMismatch: 2 });
    expect(lines).toEqual([
      'dropped notification items: 1 for unknown subscriptions, 2 with a clientState that does not match (answered 202 all the same)',
    ]);
    for (let i = 0; i < 100; i++) log.record({ clientStateMismatch: 1 });
    expect(lines).toHaveLength(1);
    jest.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^dropped notification items: 0 for unknown subscriptions, 100 with/);
    jest.advanceTimersByTime(60_000);
    expect(lines).toHaveLength(2);
  });

  it("gives every request's items to the counter by outcome, accepted ones included, none logged for them", () => {
    const counted: Array<[string, number]> = [];
    const log = new WebhookDropLog(Date.now, (outcome, n) => counted.push([outcome, n]));
    log.record({ accepted: 5, unknownSubscription: 0, clientStateMismatch: 0 });
    log.record({ accepted: 1, unknownSubscription: 2, clientStateMismatch: 3 });
    expect(counted).toEqual([
      ['accepted', 5],
      ['accepted', 1],
      ['dropped_unknown_subscription', 2],
      ['dropped_client_state_mismatch', 3],
    ]);
    expect(lines).toHaveLength(1);
  });
});
