import type { Db } from '../database.ts';
import { TASK_PRIORITIES, TASK_STATUSES } from '../schema/enums.ts';
import { projects } from '../schema/projects.ts';
import { tasks } from '../schema/tasks.ts';
import { users } from '../schema/users.ts';

/** A small deterministic generator (mulberry32), so demo data is the same on every machine. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
  };
}

const FIRST = [
  'Ada',
  'Ben',
  'Chloé',
  'Dev',
  'Eva',
  'Femi',
  'Greta',
  'Hiro',
  'Ines',
  'Jonas',
  'Kemi',
  'Lars',
  'Maya',
  'Nils',
  'Omar',
  'Priya',
  'Quinn',
  'Rosa',
  'Sami',
  'Tara',
  'Ugo',
  'Vera',
  'Wen',
  'Yara',
  'Zoe',
];
const LAST = [
  'Lovelace',
  'Okafor',
  'Martin',
  'Patel',
  'Nowak',
  'Adeyemi',
  'Berg',
  'Tanaka',
  'García',
  'Weber',
  'Osei',
  'Larsen',
  'Cohen',
  'Holm',
  'Haddad',
  'Iyer',
  'Byrne',
  'Rossi',
  'Virtanen',
  'Singh',
];
const PROJECTS = [
  'Website relaunch',
  'Mobile app 3.0',
  'Data warehouse migration',
  'SOC 2 audit',
  'Customer portal',
  'Billing revamp',
  'Onboarding flow',
  'Support tooling',
  'Q3 hiring plan',
  'Office move',
  'Partner API',
  'Design system',
];
const VERBS = [
  'Draft',
  'Review',
  'Ship',
  'Test',
  'Plan',
  'Fix',
  'Document',
  'Migrate',
  'Refactor',
  'Benchmark',
  'Prototype',
  'Audit',
];
const THINGS = [
  'login page',
  'invoice export',
  'search index',
  'release notes',
  'pricing table',
  'backup job',
  'analytics events',
  'API limits',
  'error pages',
  'email templates',
  'access review',
  'dashboard charts',
  'data retention policy',
  'load tests',
];

export interface OrganisationSpec {
  managers: number;
  users: number;
  projects: number;
  tasks: number;
  seed?: number;
  /** Username prefix, so several seeds can share a database. */
  prefix?: string;
  /** One hash per user, or one hash shared by every seeded user (bulk benchmark data). */
  passwordHash: (index: number) => Promise<string>;
  onProgress?: (done: number, total: number) => void;
}

export interface SeededOrganisation {
  managers: string[];
  users: string[];
  projectIds: number[];
}

const CHUNK = 1000;
const DAY = 86_400_000;

/** Inserts a believable organisation: managers owning projects, users with tasks over every status and due date. */
export async function seedOrganisation(db: Db, spec: OrganisationSpec): Promise<SeededOrganisation> {
  const rand = prng(spec.seed ?? 2026);
  const prefix = spec.prefix ?? '';
  const total = spec.managers + spec.users + spec.projects + spec.tasks;
  let done = 0;
  const progress = (n: number) => {
    done += n;
    spec.onProgress?.(done, total);
  };

  const people: {
    username: string;
    display_name: string;
    role: 'manager' | 'user';
    password_hash: string;
  }[] = [];
  for (let i = 0; i < spec.managers + spec.users; i++) {
    const role = i < spec.managers ? 'manager' : 'user';
    const first = FIRST[i % FIRST.length]!;
    const last = LAST[Math.floor(i / FIRST.length + i) % LAST.length]!;
    const base = first
      .normalize('NFD')
      .replace(/[^A-Za-z]/g, '')
      .toLowerCase();
    const username = `${prefix}${base}${role === 'manager' ? '.manager' : ''}${i >= FIRST.length ? i : ''}`;
    people.push({
      username,
      display_name: `${first} ${last}`,
      role,
      password_hash: await spec.passwordHash(i),
    });
  }
  const userIds: number[] = [];
  const managerIds: number[] = [];
  for (let i = 0; i < people.length; i += CHUNK) {
    const rows = await db
      .insert(users)
      .values(people.slice(i, i + CHUNK))
      .returning({ id: users.id, role: users.role });
    for (const row of rows) (row.role === 'manager' ? managerIds : userIds).push(row.id);
    progress(rows.length);
  }

  const projectIds: number[] = [];
  const projectRows = Array.from({ length: spec.projects }, (_, i) => ({
    name: `${PROJECTS[i % PROJECTS.length]}${i >= PROJECTS.length ? ` ${Math.floor(i / PROJECTS.length) + 1}` : ''}`,
    description: 'Seeded demo project.',
    owner_id: managerIds[i % managerIds.length]!,
  }));
  for (let i = 0; i < projectRows.length; i += CHUNK) {
    const rows = await db
      .insert(projects)
      .values(projectRows.slice(i, i + CHUNK))
      .returning({ id: projects.id });
    projectIds.push(...rows.map((r) => r.id));
    progress(rows.length);
  }

  const now = Date.now();
  const assignees = [...userIds, ...managerIds];
  for (let i = 0; i < spec.tasks; i += CHUNK) {
    const chunk = Array.from({ length: Math.min(CHUNK, spec.tasks - i) }, () => {
      const status = rand.pick(TASK_STATUSES);
      const dueOffset = rand.int(-20, 40);
      return {
        project_id: rand.pick(projectIds),
        title: `${rand.pick(VERBS)} ${rand.pick(THINGS)}`,
        status,
        priority: rand.pick(TASK_PRIORITIES),
        assignee_id: rand.next() < 0.93 ? rand.pick(assignees) : null,
        due_date: rand.next() < 0.85 ? new Date(now + dueOffset * DAY).toISOString().slice(0, 10) : null,
        created_at: new Date(now - rand.int(15, 60) * DAY),
        completed_at:
          status === 'done' ? new Date(now - rand.int(0, 13) * DAY - rand.int(0, 8) * 3_600_000) : null,
      };
    });
    await db.insert(tasks).values(chunk);
    progress(chunk.length);
  }

  return {
    managers: people.filter((p) => p.role === 'manager').map((p) => p.username),
    users: people.filter((p) => p.role === 'user').map((p) => p.username),
    projectIds,
  };
}
