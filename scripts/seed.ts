import { parseArgs } from 'node:util';
import { hashPassword } from '../src/auth/passwords.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/open.ts';
import { seedOrganisation } from '../src/db/seed/organisation.ts';
import { progressBar } from './progress.ts';

/**
 * `npm run seed -- --users N --tasks M [--managers K] [--projects P]`: large data sets for benchmarks.
 * Every seeded user shares one password, so one argon2id hash (with its salt) serves them all:
 * hashing 100,000 passwords would take over an hour and measure nothing.
 */
const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '1000' },
    tasks: { type: 'string', default: '20000' },
    managers: { type: 'string' },
    projects: { type: 'string' },
    password: { type: 'string', default: 'bench-password-2026' },
  },
});

const count = (name: string, value: string | undefined, fallback: number) => {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name}: must be a non-negative integer`);
    process.exit(2);
  }
  return n;
};

try {
  const config = loadConfig();
  const users = count('users', values.users, 1000);
  const tasks = count('tasks', values.tasks, 20_000);
  const managers = count('managers', values.managers, Math.max(1, Math.ceil(users / 20)));
  const projects = count('projects', values.projects, Math.max(1, managers * 2));
  const database = await openDatabase(config.database);
  const hash = await hashPassword(values.password);
  const prefix = `s${Date.now().toString(36)}.`;
  const org = await seedOrganisation(database.db, {
    managers,
    users,
    projects,
    tasks,
    prefix,
    seed: Date.now() % 100_000,
    passwordHash: async () => hash,
    onProgress: progressBar('seeding'),
  });
  console.log(
    `Seeded ${managers} managers, ${users} users, ${projects} projects, ${tasks} tasks into ${database.kind}.` +
      `\nSign in as e.g. ${org.managers[0]} or ${org.users[0] ?? org.managers[0]} with password ${values.password}`,
  );
  await database.close();
} catch (error) {
  console.error(error instanceof ConfigError ? `Invalid configuration: ${error.message}` : error);
  process.exit(1);
}
