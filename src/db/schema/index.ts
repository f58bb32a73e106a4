export * from './auth-sessions.js';
export * from './change-log.js';
export * from './enums.js';
export * from './notifications.js';
export * from './projects.js';
export * from './realtime-cursor.js';
export * from './tasks.js';
export * from './users.js';
