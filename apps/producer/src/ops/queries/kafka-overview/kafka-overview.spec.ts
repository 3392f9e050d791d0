import { buildKafkaOverview, type GroupInput, type TopicOffsetsInput } from './kafka-overview';

const now = new Date('2025-01-02T03:04:05.000Z');
const topics: TopicOffsetsInput[] = [
  {
    key: 'syncRequests',
    name: 'p.email-core.sync.requests',
    exists: true,
    partitions: [
      { partition: 1, low: '0', high: '7' },
      { partition: 0, low: '2', high: '10' },
    ],
  },
  {
    key: 'mailCommands',
    name: 'p.email-core.mail.commands',
    exists: true,
    partitions: [
      { partition: 0, low: '0', high: '4' },
      { partition: 1, low: '0', high: '0' },
    ],
  },
  { key: 'deadLetter', name: 'p.email-core.dead-letter', exists: false, partitions: [] },
];

const group = (over: Partial<GroupInput>): GroupInput => ({
  groupId: 'p.email-core-sync',
  state: 'Stable',
  members: 1,
  assigned: new Map(),
  committed: [],
  ...over,
});

describe('buildKafkaOverview', () => {
  it('lists topics in order with partitions sorted, offsets as numbers and retained counts', () => {
    const o = buildKafkaOverview('p.', topics, [], now);
    expect(o.topicPrefix).toBe('p.');
    expect(o.fetchedAt).toBe('2025-01-02T03:04:05.000Z');
    expect(o.topics.map((t) => t.key)).toEqual(['syncRequests', 'mailCommands', 'deadLetter']);
    expect(o.topics[0]).toEqual({
      key: 'syncRequests',
      name: 'p.email-core.sync.requests',
      exists: true,
      partitions: [
        { partition: 0, lowOffset: 2, endOffset: 10, messages: 8 },
        { partition: 1, lowOffset: 0, endOffset: 7, messages: 7 },
      ],
      endOffsetTotal: 17,
    });
    expect(o.topics[2]).toMatchObject({ exists: false, partitions: [], endOffsetTotal: 0 });
    expect(o.groups).toEqual([]);
    expect(o.totalLag).toBe(0);
  });

  it('computes lag per partition from committed offsets; -1 means none committed', () => {
    const o = buildKafkaOverview(
      'p.',
      topics,
      [
        group({
          committed: [
            {
              topic: 'p.email-core.sync.requests',
              partitions: [
                { partition: 0, offset: '6' },
                { partition: 1, offset: '-1' },
              ],
            },
            // a topic where nothing was ever committed is not one of the group's topics
            { topic: 'p.email-core.mail.commands', partitions: [{ partition: 0, offset: '-1' }] },
          ],
        }),
      ],
      now,
    );
    expect(o.groups).toEqual([
      {
        groupId: 'p.email-core-sync',
        state: 'Stable',
        members: 1,
        topics: [
          {
            topic: 'p.email-core.sync.requests',
            partitions: [
              { partition: 0, committedOffset: 6, endOffset: 10, lag: 4 },
              { partition: 1, committedOffset: null, endOffset: 7, lag: null },
            ],
            lag: 4,
          },
        ],
        totalLag: 4,
      },
    ]);
    expect(o.totalLag).toBe(4);
  });

  it('includes topics a member is assigned even before any commit, and sums lags over groups', () => {
    const o = buildKafkaOverview(
      'p.',
      topics,
      [
        group({
          groupId: 'p.email-core-mail-commands',
          state: 'CompletingRebalance',
          assigned: new Map([['p.email-core.mail.commands', [0, 1]]]),
        }),
        group({
          groupId: 'p.email-core-notifications',
          state: 'Empty',
          members: 0,
          committed: [
            {
              topic: 'p.email-core.mail.commands',
              // committed past the end read a moment earlier: lag 0, never negative
              partitions: [
                { partition: 0, offset: '5' },
                { partition: 1, offset: '0' },
              ],
            },
          ],
        }),
        group({
          groupId: 'p.email-core-a',
          state: 'SomethingNew',
          committed: [{ topic: 'p.email-core.sync.requests', partitions: [{ partition: 1, offset: '2' }] }],
        }),
      ],
      now,
    );
    expect(o.groups.map((g) => g.groupId)).toEqual([
      'p.email-core-a',
      'p.email-core-mail-commands',
      'p.email-core-notifications',
    ]);
    expect(o.groups[0]).toMatchObject({ state: 'Unknown', totalLag: 5 });
    expect(o.groups[1].topics[0].partitions).toEqual([
      { partition: 0, committedOffset: null, endOffset: 4, lag: null },
      { partition: 1, committedOffset: null, endOffset: 0, lag: null },
    ]);
    expect(o.groups[1].totalLag).toBe(0);
    expect(o.groups[2].topics[0].partitions.map((p) => p.lag)).toEqual([0, 0]);
    expect(o.totalLag).toBe(5);
  });
});
