import type pg from 'pg';
import type { HeldSessions, LoadGenerators } from './generators.ts';
import type { ProbeOrganisation } from './organisation.ts';
import type { StatusWriter } from './writes.ts';

/** What the scenarios of a realtime benchmark (bench:realtime, bench:cluster) work with. */
export interface RealtimeBench<Report> {
  /** The Redis key prefix of this run (its keys are dropped at the end). */
  redisPrefix: string;
  /** The pool the benchmark writes from (`bench-writer` in pg_stat_activity). */
  writer: pg.Pool;
  org: ProbeOrganisation;
  /** Bearer token by user id. */
  tokens: Map<number, string>;
  generators: LoadGenerators<Report>;
  sessions: HeldSessions;
  statusWriter: StatusWriter;
}
