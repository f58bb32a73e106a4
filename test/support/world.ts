import { eq } from 'drizzle-orm';
import { projects } from '../../src/db/schema/projects.ts';
import { tasks } from '../../src/db/schema/tasks.ts';
import { createUser } from '../../src/users/rules.ts';
import type { TestApp } from './app.ts';
import { type Client, client } from './client.ts';

export const PASSWORD = 'correct horse battery staple';

export interface Person {
  id: number;
  username: string;
  token: string;
  api: Client;
}

/**
 * A small organisation for tests: an admin, two managers each owning a project with a task,
 * two users each assigned one of those tasks. Everyone is signed in.
 */
export async function makeWorld(ctx: TestApp, prefix = '') {
  const { db } = ctx.database;
  const anon = client(ctx);
  const person = async (username: string, role: 'admin' | 'manager' | 'user'): Promise<Person> => {
    const user = await createUser(db, null, { username: `${prefix}${username}`, password: PASSWORD, role });
    const login = await anon.post<{ token: string }>('/api/auth/login', {
      username: user.username,
      password: PASSWORD,
    });
    if (login.status !== 200) throw new Error(`login failed for ${user.username}: ${login.text}`);
    return {
      id: user.id,
      username: user.username,
      token: login.body.token,
      api: client(ctx, login.body.token),
    };
  };
  const admin = await person('root', 'admin');
  const managerA = await person('mara', 'manager');
  const managerB = await person('mbeck', 'manager');
  const userA = await person('ursula', 'user');
  const userB = await person('ulrich', 'user');

  const [projectA] = await db
    .insert(projects)
    .values({ name: 'Project A', owner_id: managerA.id })
    .returning();
  const [projectB] = await db
    .insert(projects)
    .values({ name: 'Project B', owner_id: managerB.id })
    .returning();
  const [taskA] = await db
    .insert(tasks)
    .values({ project_id: projectA!.id, title: 'Task A', assignee_id: userA.id })
    .returning();
  const [taskB] = await db
    .insert(tasks)
    .values({ project_id: projectB!.id, title: 'Task B', assignee_id: userB.id })
    .returning();
  return {
    anon,
    admin,
    managerA,
    managerB,
    userA,
    userB,
    projectA: projectA!,
    projectB: projectB!,
    taskA: taskA!,
    taskB: taskB!,
    async taskExists(id: number) {
      return (await db.select({ id: tasks.id }).from(tasks).where(eq(tasks.id, id))).length > 0;
    },
  };
}

export type World = Awaited<ReturnType<typeof makeWorld>>;
