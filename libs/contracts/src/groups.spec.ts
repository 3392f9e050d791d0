import { CONSUMER_GROUP_STEM, ConsumerGroups, realtimeGroupName } from './groups';

describe('consumer groups', () => {
  it('spells distinct names Kafka accepts, each starting with the stem the Ops page recognises', () => {
    const names = Object.values(ConsumerGroups);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) {
      expect(name).toMatch(/^[A-Za-z0-9._-]{1,200}$/);
      expect(name.startsWith(CONSUMER_GROUP_STEM)).toBe(true);
    }
  });

  it("names an API instance's real-time group after the instance, with only characters Kafka accepts", () => {
    expect(realtimeGroupName('api-1')).toBe('email-core-realtime-api-1');
    expect(realtimeGroupName('host name/7:x')).toBe('email-core-realtime-host-name-7-x');
    expect(realtimeGroupName('host').startsWith(CONSUMER_GROUP_STEM)).toBe(true);
  });
});
