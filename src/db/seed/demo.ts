import { hashPassword } from '../../auth/passwords.ts';
import type { Db } from '../database.ts';
import { seedOrganisation } from './organisation.ts';

/** Every demo account signs in with this; demo mode is for trying the portal, never for production. */
export const DEMO_PASSWORD = 'demo-password-2026';

/** The demo organisation of an empty embedded portal: 4 managers, 24 users, 10 projects, 360 tasks. */
export async function seedDemo(db: Db) {
  const org = await seedOrganisation(db, {
    managers: 4,
    users: 24,
    projects: 10,
    tasks: 360,
    passwordHash: () => hashPassword(DEMO_PASSWORD),
  });
  return { password: DEMO_PASSWORD, managers: org.managers, users: org.users };
}
