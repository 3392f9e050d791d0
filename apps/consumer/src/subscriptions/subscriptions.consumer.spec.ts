import { DeleteSubscriptionCommand } from './commands/delete-subscription/delete-subscription.command';
import { EnsureSubscriptionCommand } from './commands/ensure-subscription/ensure-subscription.command';
import { HandleSubscriptionLifecycleCommand } from './commands/handle-subscription-lifecycle/handle-subscription-lifecycle.command';
import { subscriptionCommand } from './subscriptions.consumer';

const ACCOUNT = '7f0c1f7e-5d0a-4a53-9a53-2b8f7f9b8a11';
const at = new Date().toISOString();

describe('subscriptionCommand', () => {
  it('runs ensure from Kafka waiting for the account lock', () => {
    const cmd = subscriptionCommand({
      type: 'subscription.ensure',
      v: 1,
      accountId: ACCOUNT,
      reason: 'synced',
      requestedAt: at,
    });
    expect(cmd).toBeInstanceOf(EnsureSubscriptionCommand);
    expect(cmd).toMatchObject({ accountId: ACCOUNT, reason: 'synced', lockMode: 'wait' });
  });

  it('hands lifecycle events and deletions to their own use cases', () => {
    const event = {
      type: 'subscription.lifecycle' as const,
      v: 1 as const,
      accountId: ACCOUNT,
      subscriptionId: 'sub-1',
      lifecycleEvent: 'missed' as const,
      receivedAt: at,
    };
    expect(subscriptionCommand(event)).toEqual(new HandleSubscriptionLifecycleCommand(event));
    const removalId = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
    expect(
      subscriptionCommand({
        type: 'subscription.delete',
        v: 1,
        accountId: ACCOUNT,
        removalId,
        requestedAt: at,
      }),
    ).toEqual(new DeleteSubscriptionCommand(ACCOUNT, removalId));
  });
});
