import { projectTopics, Topics, topicName } from './topics';

describe('topics', () => {
  it('prefixes every topic and gives each the configured partition count', () => {
    const specs = projectTopics({ prefix: 'run42.', partitions: 6, replicationFactor: 1 });
    expect(specs).toHaveLength(Object.keys(Topics).length);
    for (const s of specs) {
      expect(s.name.startsWith('run42.email-core.')).toBe(true);
      expect(s.numPartitions).toBe(6);
    }
    expect(new Set(specs.map((s) => s.name)).size).toBe(specs.length);
  });

  it('spells names Kafka accepts', () => {
    for (const t of Object.values(Topics)) expect(topicName('', t)).toMatch(/^[A-Za-z0-9._-]{1,249}$/);
  });
});
