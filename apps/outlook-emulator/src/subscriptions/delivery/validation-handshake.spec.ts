import { StatsService, type NotificationDelivery } from '../../faults/stats.service';
import { echoValidationToken, fakeWebhookClient, settingsFactory } from '../testing/subscription.factory';
import { newValidationToken, ValidationHandshake, validationUrl } from './validation-handshake';
import type { WebhookRequest, WebhookResponse } from './webhook-client';

describe('validationUrl', () => {
  const token = 'Validation: Testing client application reachability for subscription Request-Id: 42';
  const encoded =
    'validationToken=Validation%3A+Testing+client+application+reachability+for+subscription+Request-Id%3A+42';

  it('appends the form-encoded token and leaves the URL and its own query exactly as they were', () => {
    expect(validationUrl('https://h.example.com/hook', token)).toBe(`https://h.example.com/hook?${encoded}`);
    expect(validationUrl('https://h.example.com/hook?a=b%20c&x=1', token)).toBe(
      `https://h.example.com/hook?a=b%20c&x=1&${encoded}`,
    );
    expect(validationUrl('https://h.example.com/hook?', token)).toBe(`https://h.example.com/hook?${encoded}`);
    expect(validationUrl('https://h.example.com/hook?a=1#frag', token)).toBe(
      `https://h.example.com/hook?a=1&${encoded}`,
    );
    expect(new URL(validationUrl('http://127.0.0.1/x?y=1', token)).searchParams.get('validationToken')).toBe(
      token,
    );
  });

  it('makes a fresh token each time', () => {
    expect(newValidationToken()).not.toBe(newValidationToken());
  });
});

describe('ValidationHandshake', () => {
  function setup(respond: (req: WebhookRequest) => Partial<WebhookResponse>) {
    const client = fakeWebhookClient(respond);
    const stats = new StatsService();
    const handshake = new ValidationHandshake(client, stats, settingsFactory());
    const recent = () => (stats.snapshot().notifications as { recent: NotificationDelivery[] }).recent;
    return { client, handshake, recent };
  }

  it('POSTs an empty text/plain body with a 10 s timeout and passes when 200 echoes the token', async () => {
    const { client, handshake, recent } = setup(echoValidationToken);
    await expect(handshake.validate('http://127.0.0.1:9/hook?k=v', 'sub-1')).resolves.toBe(true);
    expect(client.requests[0]).toMatchObject({
      contentType: 'text/plain; charset=utf-8',
      body: '',
      timeoutMs: 10000,
    });
    expect(client.requests[0].url).toMatch(
      /^http:\/\/127\.0\.0\.1:9\/hook\?k=v&validationToken=Validation%3A\+/,
    );
    expect(recent()).toEqual([
      expect.objectContaining({
        kind: 'validation',
        subscriptionIds: ['sub-1'],
        status: 200,
        outcome: 'delivered',
      }),
    ]);
  });

  it.each([
    ['another body', () => ({ status: 200, body: 'nope' })],
    ['the token with a 202', (req: WebhookRequest) => ({ ...echoValidationToken(req), status: 202 })],
    ['a 500', () => ({ status: 500 })],
    [
      'the token URL-encoded',
      (req: WebhookRequest) => ({ status: 200, body: new URL(req.url).search.split('=')[1] }),
    ],
    ['no answer in time', () => ({ status: 0, timedOut: true })],
  ])('fails on %s', async (_what, respond: (req: WebhookRequest) => Partial<WebhookResponse>) => {
    const { handshake, recent } = setup(respond);
    await expect(handshake.validate('http://127.0.0.1:9/hook', 'sub-1')).resolves.toBe(false);
    expect(recent()[0].outcome).not.toBe('delivered');
  });
});
