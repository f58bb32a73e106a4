import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets (seconds) from 1 ms to 10 s: HTTP answers and realtime deliveries alike. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Everything `/metrics` exports (Prometheus text), one registry per process. Instruments are
 * built once at start-up and handed to the parts that count (HTTP middleware, engine, hub);
 * gauges that describe current state read it when scraped (`observe`).
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'portal_' });
  const registers = [registry];
  const sources = { sessions: () => 0, leader: () => false };

  return {
    registry,
    httpDuration: new Histogram({
      name: 'portal_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    /** Frames the leader committed and published, by kind. */
    framesPublished: new Counter({
      name: 'portal_realtime_frames_published_total',
      help: 'Dashboard frames (deltas and snapshots) the leader published',
      labelNames: ['kind'] as const,
      registers,
    }),
    /** Frames this instance wrote to its sockets. */
    framesDelivered: new Counter({
      name: 'portal_realtime_frames_delivered_total',
      help: 'Dashboard frames written to WebSocket sessions on this instance',
      registers,
    }),
    deliveryLatency: new Histogram({
      name: 'portal_realtime_commit_to_delivery_seconds',
      help: 'From the changing transaction (change_log.at) to the delta leaving this instance',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    batchDuration: new Histogram({
      name: 'portal_realtime_batch_duration_seconds',
      help: 'Leader: time to recompute and publish one batch of changes',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    /** Changes per batch: whether the leader coalesces (many per batch) or runs one batch per write. */
    batchChanges: new Histogram({
      name: 'portal_realtime_batch_changes',
      help: 'Leader: change-log rows in one batch',
      buckets: [1, 2, 5, 10, 20, 50, 100, 500, 5000],
      registers,
    }),
    /** The synchronous part of one heartbeat (pinging every socket here): a stall for everything else. */
    heartbeatDuration: new Histogram({
      name: 'portal_realtime_heartbeat_duration_seconds',
      help: 'Time the event loop spent in one heartbeat slice (pings and liveness checks)',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    changeLogLag: new Gauge({
      name: 'portal_realtime_change_log_lag_seconds',
      help: 'Leader: age of the newest change of the last batch when its frames were published',
      registers,
    }),
    /** Sign-ins answered from this instance's cache, or read from the database (src/auth/sign-in-cache.ts). */
    signInLookups: new Counter({
      name: 'portal_sign_in_cache_lookups_total',
      help: 'Sign-in checks by outcome: hit (answered from the cache), miss (read from the database), unusable (cache not usable now)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    signInInvalidations: new Counter({
      name: 'portal_sign_in_cache_invalidations_total',
      help: 'Sign-in cache invalidations this instance sent (after a write that changed a sign-in) or received',
      labelNames: ['direction'] as const,
      registers,
    }),
    signInAckTimeouts: new Counter({
      name: 'portal_sign_in_cache_ack_timeouts_total',
      help: 'Invalidations answered after the timeout, not every instance having acknowledged',
      registers,
    }),
    errors: new Counter({
      name: 'portal_errors_total',
      help: 'Errors talking to a dependency, by component (database, redis)',
      labelNames: ['component'] as const,
      registers,
    }),
    sessions: new Gauge({
      name: 'portal_realtime_sessions',
      help: 'Open WebSocket sessions on this instance',
      registers,
      collect() {
        this.set(sources.sessions());
      },
    }),
    leader: new Gauge({
      name: 'portal_realtime_leader',
      help: '1 while this instance is the realtime leader',
      registers,
      collect() {
        this.set(sources.leader() ? 1 : 0);
      },
    }),
    /** Connects the state gauges to what they describe (the realtime parts are built later). */
    observe(from: Partial<typeof sources>) {
      Object.assign(sources, from);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
