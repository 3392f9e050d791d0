import { publicUrlWarning } from './public-url-check';

const config = (graphBaseUrl: string, publicBaseUrl: string) => ({
  microsoft: {
    clientId: 'c',
    clientSecret: 'secret-secret',
    authority: 'https://login.microsoftonline.com/common',
    graphBaseUrl,
    scopes: [],
  },
  subscriptions: {
    publicBaseUrl,
    notificationUrl: `${publicBaseUrl}/api/v1/graph/notifications`,
    lifecycleUrl: `${publicBaseUrl}/api/v1/graph/lifecycle`,
    lifetimeMinutes: 4200,
    renewBeforeMinutes: 720,
    checkIntervalMs: 60000,
  },
});

describe('publicUrlWarning', () => {
  it('warns when real Microsoft would have to call a non-https PUBLIC_BASE_URL', () => {
    expect(publicUrlWarning(config('https://graph.microsoft.com', 'http://127.0.0.1:3000'))).toMatch(
      /PUBLIC_BASE_URL is http:\/\/127\.0\.0\.1:3000.*https/,
    );
  });

  it('is quiet with an https tunnel, and against the emulator', () => {
    expect(publicUrlWarning(config('https://graph.microsoft.com', 'https://abc.ngrok.app'))).toBeNull();
    expect(publicUrlWarning(config('https://localhost:8443', 'http://127.0.0.1:3000'))).toBeNull();
  });
});
