import { TASK_STATUSES, type TaskStatus } from '../db/schema/enums.ts';

/**
 * What a task status is called on every page, declared once. The browser never keeps its own
 * copy: the dashboard's status chart reads these from the page (`data-labels`, dashboard.tsx).
 */
export const STATUS_LABELS: Readonly<Record<TaskStatus, string>> = {
  todo: 'To do',
  in_progress: 'In progress',
  blocked: 'Blocked',
  done: 'Done',
};

/** Every status with its label, in workflow order (TASK_STATUSES). */
export const STATUSES: [TaskStatus, string][] = TASK_STATUSES.map((s) => [s, STATUS_LABELS[s]]);

/** A status's label; an unknown value (an old audit entry, say) as it is. */
export const statusLabel = (status: string): string =>
  Object.hasOwn(STATUS_LABELS, status) ? STATUS_LABELS[status as TaskStatus] : status;
