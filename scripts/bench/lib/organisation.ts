/**
 * The data the realtime benchmarks measure with: a seeded organisation in which every plain user
 * has exactly one "probe" task, so that a delta reporting a status count of 1 names that task's
 * new status; and a bearer token per account.
 */
import type pg from 'pg';
import { hashPassword } from '../../../src/auth/passwords.ts';
import type { Database } from '../../../src/db/database.ts';
import { seedOrganisation } from '../../../src/db/seed/organisation.ts';
import { signIn } from '../support.ts';

export interface Person {
  id: number;
  username: string;
  role: string;
}

export interface ProbeOrganisation {
  /** Every account, by id. */
  people: Person[];
  /** The plain users, by id: each has exactly one probe task. */
  plain: Person[];
  projectIds: number[];
  /** Each plain user's probe task. */
  taskOf: Map<number, number>;
}

export async function seedProbeOrganisation(
  database: Database,
  pool: pg.Pool,
  o: { users: number; prefix: string; password: string },
): Promise<ProbeOrganisation> {
  const hash = await hashPassword(o.password);
  const org = await seedOrganisation(database.db, {
    managers: 2,
    users: o.users,
    projects: 8,
    tasks: 0,
    prefix: o.prefix,
    passwordHash: async () => hash,
  });
  const people = (await pool.query<Person>('select id, username, role from users order by id')).rows;
  const plain = people.filter((u) => u.role === 'user');
  const probe = await pool.query<{ id: number; assignee_id: number }>(
    `insert into tasks (project_id, title, assignee_id)
     select ($1::int[])[1 + (i % cardinality($1::int[]))], 'Probe ' || i, u
       from unnest($2::int[]) with ordinality as t(u, i)
     returning id, assignee_id`,
    [org.projectIds, plain.map((u) => u.id)],
  );
  return {
    people,
    plain,
    projectIds: org.projectIds,
    taskOf: new Map(probe.rows.map((t) => [t.assignee_id, t.id])),
  };
}

/** Signs every account in, eight at a time; the i-th account at `baseOf(i)`. Token by user id. */
export async function signInAll(
  accounts: { id: number; username: string; password: string }[],
  baseOf: (i: number) => string,
): Promise<Map<number, string>> {
  const tokens = new Map<number, string>();
  for (let i = 0; i < accounts.length; i += 8) {
    await Promise.all(
      accounts.slice(i, i + 8).map(async (a, j) => {
        tokens.set(a.id, await signIn(baseOf(i + j), a.username, a.password));
      }),
    );
  }
  return tokens;
}
