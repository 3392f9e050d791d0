import { Topics } from '@email-core/contracts';
import { partitionLags } from './partition-lags';

describe('partitionLags', () => {
  it("end offset minus the group's committed offset, per partition it committed on; never negative", () => {
    const ends = new Map([
      [
        Topics.syncRequests,
        [
          { partition: 0, high: '10' },
          { partition: 1, high: '4' },
          { partition: 2, high: '7' },
        ],
      ],
      [Topics.mailboxPokes, [{ partition: 0, high: '100' }]],
    ]);
    const lags = partitionLags(ends, [
      {
        group: 'email-core-sync',
        topics: [
          {
            topic: Topics.syncRequests,
            partitions: [
              { partition: 0, offset: '6' },
              { partition: 1, offset: '5' }, // committed after the end was read
              { partition: 2, offset: '-1' }, // nothing committed: no series
            ],
          },
        ],
      },
      {
        group: 'email-core-notifications',
        topics: [{ topic: Topics.mailboxPokes, partitions: [{ partition: 0, offset: '100' }] }],
      },
    ]);
    expect(lags).toEqual([
      { group: 'email-core-sync', topic: Topics.syncRequests, partition: 0, lag: 4 },
      { group: 'email-core-sync', topic: Topics.syncRequests, partition: 1, lag: 0 },
      { group: 'email-core-notifications', topic: Topics.mailboxPokes, partition: 0, lag: 0 },
    ]);
  });
});
