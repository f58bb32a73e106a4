/**
 * Every Redis key and pub/sub channel the realtime engine uses, built here and nowhere else.
 * Pub/sub ignores database numbers, so the prefix is what keeps deployments apart.
 */
export function realtimeKeys(prefix: string) {
  return {
    /** Hash {seq, doc}: the last published dashboard document of a user. */
    doc: (userId: number) => `${prefix}:rt:doc:${userId}`,
    /** List of delta frames (JSON text), oldest first, capped: the resume history. */
    history: (userId: number) => `${prefix}:rt:hist:${userId}`,
    /** Hash {user_id, auth_session}: a resumable realtime session. */
    session: (sessionId: string) => `${prefix}:rt:sess:${sessionId}`,
    /** Sorted set: user id → until when (ms) they have a live or resumable session. */
    watched: `${prefix}:rt:watched`,
    /** Channel of one user's frames: deltas and control messages. */
    userChannel: (userId: number) => `${prefix}:rt:user:${userId}`,
  };
}

export type RealtimeKeys = ReturnType<typeof realtimeKeys>;
