import type { Dashboard } from '../dashboard/metrics.ts';
import type { ControlFrame } from './frames.ts';

export type { ControlFrame };

/** The last published version of a user's dashboard document. */
export interface DocState {
  seq: number;
  doc: Dashboard;
}

export interface RealtimeSession {
  userId: number;
  /** The sign-in the session was opened with; a resume must come from the same user. */
  authSessionId: string;
}

/**
 * Shared realtime state: Redis when scaled out, process memory when embedded. Every write of a
 * new version is atomic with its history entry and its publication, and conditional on the
 * version it replaces (a compare-and-set on `seq`), which is what fences a stale leader.
 */
export interface RealtimeStore {
  getDocs(userIds: readonly number[]): Promise<Map<number, DocState>>;
  /**
   * Stores `doc` as version `seq` if the stored version is still `expectedSeq`, appends `frame`
   * to the history (or, for a snapshot frame, restarts the history) and publishes it on the
   * user's channel. False when the version moved meanwhile.
   */
  commit(commit: Commit): Promise<boolean>;
  /** Delta frames after `afterSeq`, in order, when the history still holds every one of them. */
  history(userId: number, afterSeq: number): Promise<string[] | undefined>;
  dropDoc(userId: number): Promise<void>;
  /** Publishes a control frame (never forwarded to browsers) on the user's channel. */
  publishControl(userId: number, control: ControlFrame): Promise<void>;

  createSession(session: RealtimeSession, ttlSeconds: number): Promise<string>;
  getSession(sessionId: string): Promise<RealtimeSession | undefined>;
  /** Sets (or refreshes) when sessions expire if nobody resumes them (one round trip for all). */
  expireSessions(sessionIds: readonly string[], ttlSeconds: number): Promise<void>;
  /** Forgets sessions that expired unresumed (Redis expires its keys itself); answers how many. */
  sweepSessions(nowMs: number): Promise<number>;

  /**
   * What sockets opening together need, in one round trip for all of them: every user watched
   * until `untilMs` (as `watch`), and for each resume its session (as `getSession`) and, given
   * `afterSeq`, the history after it (as `history`), each answer at the same index as its read.
   */
  openings(reads: readonly OpeningRead[], untilMs: number): Promise<OpeningReply[]>;
  /** Marks users as having live or resumable sessions until `untilMs`; keeps their documents that long. */
  watch(userIds: readonly number[], untilMs: number): Promise<void>;
  /** Users with live or resumable sessions now: the only ones whose documents the leader maintains. */
  watchedUsers(nowMs: number): Promise<number[]>;
  /** Forgets users whose watch expired, with their documents and histories (never served stale later). */
  pruneWatches(nowMs: number): Promise<void>;
  /** Which of `userIds` are watched now: what a batch costs grows with the users it touches, not with the watched. */
  watching(userIds: readonly number[], nowMs: number): Promise<number[]>;
  close(): Promise<void>;
}

/** One opening socket's reads, for `RealtimeStore.openings`. */
export interface OpeningRead {
  userId: number;
  /** The session it asks to resume, and the last version it saw (if it said). */
  resume?: { sessionId: string; afterSeq: number | undefined } | undefined;
}

export interface OpeningReply {
  session: RealtimeSession | undefined;
  /** As `history`: undefined when not asked or when the history no longer holds every frame. */
  history: string[] | undefined;
}

/** One new version of a user's document, for `RealtimeStore.commit`. */
export interface Commit {
  userId: number;
  /** The version it replaces (0: none stored). */
  expectedSeq: number;
  doc: Dashboard;
  /** The frame's text (`encodeFrame`), published as is and kept in the history. */
  frame: string;
  kind: 'delta' | 'snapshot';
  /** Its version; default `expectedSeq + 1` (a new document starts at `firstSeq()`). */
  seq?: number;
}

/** Pub/sub: plain per-channel subscriptions (never patterns). */
export interface Bus {
  subscribe(channel: string, onMessage: (message: string) => void): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /** Runs after the bus reconnected and resubscribed: messages published meanwhile are lost. */
  onResubscribed(listener: () => void): void;
  close(): Promise<void>;
}
