import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.ts';
import { query } from '../../src/db/database.ts';
import { MIGRATIONS_FOLDER, migrate } from '../../src/db/migrate.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { type Client, client } from '../support/client.ts';
import { expectErrorBody } from '../support/errors.ts';
import { makeWorld, type World } from '../support/world.ts';

/** The portal's sign-in limits (docs/security.md), written out so that a change to them is deliberate. */
const LIMITS = { perUsernameAndAddress: 5, perUsername: 100, perAddress: 50, windowSeconds: 900 };

const SECRET = 'a long secret of hers 7';

/**
 * One normalisation of usernames (NFKC and one case fold, done by the database's `username_key`)
 * wherever a username is stored, compared or counted: variants of one username are one account
 * with one throttle budget, on the embedded PGlite and on a real PostgreSQL alike, whoever writes.
 */
describe.each(['pglite', 'pg'] as const)('username variants on %s', (driver) => {
  let ctx: TestApp;
  let w: World;
  let anon: Client;
  let ines: { id: number };
  const login = (username: string, password: string, address = '192.0.2.10') =>
    anon.post('/api/auth/login', { username, password }, { 'fly-client-ip': address });

  beforeAll(async () => {
    ctx = await startTestApp(driver);
    w = await makeWorld(ctx);
    anon = client(ctx);
    const created = await w.admin.api.post('/api/users', {
      username: 'ines',
      password: SECRET,
      role: 'user',
    });
    expect(created.status, created.text).toBe(201);
    ines = created.body;
  }, 300_000); // PGlite creates its cluster in WASM: slow on a busy machine
  afterAll(() => ctx?.close());

  it('variants in case and Unicode form sign in to the one account', async () => {
    for (const variant of ['ines', 'INES', 'İnes', 'ＩＮＥＳ', 'ｉｎｅｓ']) {
      const res = await login(variant, SECRET, '192.0.2.11');
      expect(res.status, `${variant}: ${res.text}`).toBe(200);
      expect(res.body.user).toMatchObject({ id: ines.id, username: 'ines' });
    }
  });

  it('variants cannot be created as other accounts, by the API or by SQL', async () => {
    const create = (username: string) =>
      w.admin.api.post('/api/users', { username, password: SECRET, role: 'user' });
    const taken = await create('INES');
    expectErrorBody(taken, 409);
    expect(taken.body.error.details).toEqual([{ field: 'username', message: 'is already taken' }]);
    // The API takes ASCII usernames only: Unicode variants are refused outright.
    for (const variant of ['İnes', 'ＩＮＥＳ']) expectErrorBody(await create(variant), 422);
    // Another writer (psql, an ETL job) meets the same rule in the database itself.
    for (const variant of ['İnes', 'ＩＮＥＳ', 'INES']) {
      await expect(
        ctx.database.db.execute(sql`insert into users (username, password_hash) values (${variant}, 'x')`),
      ).rejects.toThrow();
    }
    // Such a writer's Unicode username is one account with its plain spelling: "ﬁ" (a ligature) is "fi".
    const hash = await hashPassword(SECRET);
    await ctx.database.db.execute(sql`insert into users (username, password_hash) values ('ﬁona', ${hash})`);
    expectErrorBody(await create('FIONA'), 409);
    const fiona = await login('Fiona', SECRET, '192.0.2.14');
    expect(fiona.status, fiona.text).toBe(200);
    expect(fiona.body.user.username).toBe('ﬁona');
    const [row] = await query<{ n: number }>(
      ctx.database.db,
      sql`select count(*)::int as n from users where username_key(username) = 'fiona'`,
    );
    expect(row!.n).toBe(1);
  });

  it('variants share one throttle budget', async () => {
    // (A dotless ı is another letter: 'ınes' would be another username.)
    const variants = ['ines', 'Ines', 'İNES', 'ＩＮＥＳ', 'ｉnes', 'ines'];
    const statuses: number[] = [];
    for (const variant of variants)
      statuses.push((await login(variant, 'wrong wrong wrong', '192.0.2.12')).status);
    const evaluated = statuses.filter((s) => s === 401).length;
    expect(evaluated).toBe(LIMITS.perUsernameAndAddress);
    expectErrorBody(await login('İnes', SECRET, '192.0.2.12'), 429);
    expectErrorBody(await login('ines', SECRET, '192.0.2.12'), 429);
  });

  it('the user search finds a user by any variant of their username', async () => {
    for (const q of ['İNE', 'ＩＮＥＳ', 'ine']) {
      const res = await w.admin.api.get(`/api/users?q=${encodeURIComponent(q)}`);
      expect(res.status).toBe(200);
      expect(
        res.body.items.map((u: { id: number }) => u.id),
        q,
      ).toContain(ines.id);
    }
  });

  it('the migration refuses to merge existing usernames that have become one, naming them', async () => {
    const db = ctx.database.db;
    // The migration that introduced username_key (not necessarily the last one any more).
    const fold = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).find((m) =>
      m.sql.some((statement) => statement.includes('users_username_key_unique')),
    )!;
    // Back to the schema before the migration, with two usernames that differ only by form.
    await db.execute(sql`drop index users_username_key_unique`);
    await db.execute(sql`drop function username_key(text)`);
    await db.execute(sql`create unique index users_username_lower_key on users (lower(username))`);
    await db.execute(sql`delete from portal_migrations where hash = ${fold.hash}`);
    await db.execute(sql`insert into users (username, password_hash) values ('ﬁlip', 'x'), ('filip', 'x')`);
    await expect(migrate(db)).rejects.toThrow(/renamed/);
    // After an operator renames one, the migration applies.
    await db.execute(sql`update users set username = 'filip2' where username = 'ﬁlip'`);
    expect(await migrate(db)).toEqual({ applied: 1 });
    expect((await login('FILIP2', 'wrong wrong wrong', '192.0.2.13')).status).toBe(401);
  });
});
