import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '@/api/client';
import { queryKeys } from '@/api/query-keys';

export type KafkaOverview = Schemas['KafkaOverviewDto'];
export type KafkaTopic = Schemas['KafkaTopicDto'];
export type ConsumerGroup = Schemas['ConsumerGroupDto'];
export type DeadLetter = Schemas['DeadLetterDto'];
export type GraphSubscription = Schemas['GraphSubscriptionDto'];
export type ReplayResult = Schemas['ReplayResultDto'];
export type DatabaseOverview = Schemas['DatabaseOverviewDto'];
export type DatabasePrimary = Schemas['DatabasePrimaryDto'];
export type DatabaseReplica = Schemas['DatabaseReplicaDto'];
export type LiveMetrics = Schemas['LiveMetricsDto'];

/** How often each part of the Ops page asks again while it is open. */
export const OPS_REFRESH_MS = {
  kafka: 5_000,
  deadLetters: 15_000,
  subscriptions: 30_000,
  database: 5_000,
  live: 5_000,
} as const;

/** The dead letters the page lists (the newest ones). */
export const DEAD_LETTER_LIMIT = 50;

/** Topics with their offsets, consumer groups with their lag (`GET /ops/kafka`); the broker is asked every 5 s. */
export function useOpsKafka(enabled: boolean) {
  return useQuery({
    queryKey: queryKeys.opsKafka(),
    queryFn: () => unwrap(api.GET('/api/v1/ops/kafka')),
    enabled,
    refetchInterval: OPS_REFRESH_MS.kafka,
    staleTime: 0,
  });
}

/** The newest dead letters, newest first (`GET /ops/dead-letters`). */
export function useDeadLetters(enabled: boolean) {
  return useQuery({
    queryKey: queryKeys.opsDeadLetters(),
    queryFn: () =>
      unwrap(api.GET('/api/v1/ops/dead-letters', { params: { query: { limit: DEAD_LETTER_LIMIT } } })),
    enabled,
    refetchInterval: OPS_REFRESH_MS.deadLetters,
    staleTime: 0,
  });
}

/** Graph subscriptions with their expiry (`GET /ops/subscriptions`). */
export function useOpsSubscriptions(enabled: boolean) {
  return useQuery({
    queryKey: queryKeys.opsSubscriptions(),
    queryFn: () => unwrap(api.GET('/api/v1/ops/subscriptions')),
    enabled,
    refetchInterval: OPS_REFRESH_MS.subscriptions,
    staleTime: 0,
  });
}

/**
 * The primary and the read replica (`GET /ops/database`): the replica's state, lag and the reads each side
 * served, as the answering producer instance's ReadReplica last probed them; asked every 5 s.
 */
export function useOpsDatabase(enabled: boolean) {
  return useQuery({
    queryKey: queryKeys.opsDatabase(),
    queryFn: () => unwrap(api.GET('/api/v1/ops/database')),
    enabled,
    refetchInterval: OPS_REFRESH_MS.database,
    staleTime: 0,
  });
}

/**
 * The live panel (`GET /ops/live`): sync rate, webhook latency p95, Kafka lag and provider 429s over the last
 * minute, from the metrics the answering producer instance reads every 5 s; asked every 5 s.
 */
export function useOpsLive(enabled: boolean) {
  return useQuery({
    queryKey: queryKeys.opsLive(),
    queryFn: () => unwrap(api.GET('/api/v1/ops/live')),
    enabled,
    refetchInterval: OPS_REFRESH_MS.live,
    staleTime: 0,
  });
}

/**
 * Replays one dead letter (`POST /ops/dead-letters/replay`). Once it is sent, the list and the offsets are
 * asked for again: the dead letter now shows when it was replayed, and its topic's end offset moved.
 */
export function useReplayDeadLetter() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (target: { partition: number; offset: number }) =>
      unwrap(api.POST('/api/v1/ops/dead-letters/replay', { body: target })),
    onSuccess: (result) => {
      queryClient.setQueryData<Schemas['DeadLetterListDto']>(queryKeys.opsDeadLetters(), (list) =>
        list
          ? {
              ...list,
              items: list.items.map((d) =>
                d.partition === result.partition && d.offset === result.offset
                  ? { ...d, replayedAt: result.replayedAt }
                  : d,
              ),
            }
          : list,
      );
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.ops() }),
  });
}
