import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { forbidden } from '../errors.ts';
import { type App, type AppDeps, type AppEnv, actorOf } from '../http/context.ts';
import { ApiError } from '../http/errors.ts';
import { clientAddress } from '../http/middleware/client.ts';
import { errorResponses, IdParams, json, jsonBody, Password, security } from '../http/schemas.ts';
import { findUserById, getUser } from '../users/rules.ts';
import { changeOwnPassword, throttledCheck } from './account.ts';
import {
  confirmEnrolment,
  mfaEnabled,
  mfaState,
  RECOVERY_CODE_COUNT,
  recoveryCodesLeft,
  removeMfa,
  startEnrolment,
  useSecondFactor,
} from './mfa.ts';
import type { SecretBox } from './secret-box.ts';

const PasswordChange = z
  .object({
    current_password: z.string().min(1, 'must not be empty').max(1024),
    new_password: Password,
  })
  .strict()
  .openapi('PasswordChange');

/** A TOTP code (6 digits) or a recovery code (`ABCDE-FGHJK`). */
export const SecondFactorCode = z
  .string()
  .trim()
  .min(6, 'must be a 6-digit code or a recovery code')
  .max(20, 'must be a 6-digit code or a recovery code')
  .regex(/^[A-Za-z0-9 -]+$/, 'must be a 6-digit code or a recovery code');

const CodeBody = z.object({ code: SecondFactorCode }).strict().openapi('SecondFactorCode');

const Enrolment = z
  .object({
    secret: z.string().openapi({ description: 'Base32 TOTP secret, shown once for manual entry' }),
    otpauth_url: z.string().openapi({ example: 'otpauth://totp/Enterprise%20Portal:alice?secret=…' }),
  })
  .openapi('TotpEnrolment');

const RecoveryCodes = z
  .object({
    recovery_codes: z
      .array(z.string())
      .openapi({ description: `${RECOVERY_CODE_COUNT} single-use codes, shown this once` }),
  })
  .openapi('RecoveryCodes');

const SecurityState = z
  .object({
    must_change_password: z.boolean().openapi({
      description: 'An admin asked for a new password: other routes answer 403 until it is changed',
    }),
    mfa_enabled: z.boolean().openapi({ description: 'Two-factor sign-in is on' }),
    recovery_codes_left: z.number().int().openapi({ description: 'Unused recovery codes' }),
  })
  .openapi('AccountSecurity');

const tags = ['me'];
const wrongCode = () => new ApiError('wrong_code', 'Wrong or already used code');

/** Password change and two-factor sign-in for the caller, and the admins' two-factor reset. */
export function registerAccountSecurity(app: App, deps: AppDeps & { mfa: SecretBox }) {
  const { db } = deps.database;
  const who = (c: Context<AppEnv>) => ({
    username: actorOf(c).username,
    address: clientAddress(c, deps),
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/me/security',
      tags,
      security,
      summary: 'My password and two-factor state',
      description: 'Also answers while I must change my password.',
      responses: { 200: json(SecurityState, 'The state'), ...errorResponses },
    }),
    async (c) => {
      const id = actorOf(c).id;
      const [user, state, left] = await Promise.all([
        findUserById(db, id),
        mfaState(db, id),
        recoveryCodesLeft(db, id),
      ]);
      return c.json(
        {
          must_change_password: user?.must_change_password ?? false,
          mfa_enabled: state === 'on',
          recovery_codes_left: state === 'on' ? left : 0,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/me/password',
      tags,
      security,
      summary: 'Change my password',
      description:
        'Needs the current password (403 `wrong_password`; failures are throttled like sign-ins, 429). ' +
        'The new one follows the rules for new users. Ends every other sign-in of mine and their live ' +
        'sockets, and clears "must change password".',
      request: { body: jsonBody(PasswordChange) },
      responses: { 204: { description: 'Changed' }, 429: errorResponses[401], ...errorResponses },
    }),
    async (c) => {
      const actor = actorOf(c);
      const ended = await changeOwnPassword({ db, throttle: deps.throttle }, actor, {
        ...c.req.valid('json'),
        clientAddress: clientAddress(c, deps),
      });
      for (const id of ended) await deps.revokeRealtime?.(actor.id, id);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/me/mfa/totp',
      tags,
      security,
      summary: 'Start enrolling an authenticator app (TOTP)',
      description:
        'Answers a new secret and its otpauth:// URL, once. Two-factor sign-in is on only after ' +
        'POST /api/me/mfa/totp/verify with a code from it. 409 when it is already on.',
      responses: { 200: json(Enrolment, 'The pending secret'), ...errorResponses },
    }),
    async (c) => c.json(await startEnrolment(db, deps.mfa, actorOf(c)), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/me/mfa/totp/verify',
      tags,
      security,
      summary: 'Turn two-factor sign-in on with a code from the authenticator app',
      description: `Answers ${RECOVERY_CODE_COUNT} single-use recovery codes, shown this once. A wrong code answers 403 \`wrong_code\` (throttled like sign-ins).`,
      request: { body: jsonBody(CodeBody) },
      responses: { 200: json(RecoveryCodes, 'On'), 429: errorResponses[401], ...errorResponses },
    }),
    async (c) => {
      const actor = actorOf(c);
      let codes: string[] | undefined;
      await throttledCheck(
        { db: deps.database.db, throttle: deps.throttle },
        who(c),
        async () => {
          codes = await confirmEnrolment(db, deps.mfa, actor.id, c.req.valid('json').code);
          return codes !== undefined;
        },
        wrongCode,
      );
      return c.json({ recovery_codes: codes ?? [] }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/me/mfa',
      tags,
      security,
      summary: 'Turn two-factor sign-in off',
      description:
        'Needs a current code or an unused recovery code (403 `wrong_code`, throttled). A pending ' +
        'enrolment is cancelled without one. 409 when two-factor sign-in is not on.',
      request: { body: jsonBody(CodeBody) },
      responses: { 204: { description: 'Off' }, 429: errorResponses[401], ...errorResponses },
    }),
    async (c) => {
      const actor = actorOf(c);
      if (await mfaEnabled(db, actor.id)) {
        await throttledCheck(
          { db: deps.database.db, throttle: deps.throttle },
          who(c),
          () => useSecondFactor(db, deps.mfa, actor.id, c.req.valid('json').code),
          wrongCode,
        );
      }
      if (!(await removeMfa(db, actor.id))) throw new ApiError('conflict', 'Two-factor sign-in is not on');
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/users/{id}/mfa',
      tags: ['users'],
      security,
      summary: "Reset a user's two-factor sign-in (admins)",
      description:
        'For a user who lost their authenticator and recovery codes: they sign in with their password ' +
        'alone and may enrol again. Answers 204 whether or not it was on.',
      request: { params: IdParams },
      responses: { 204: { description: 'Reset' }, ...errorResponses },
    }),
    async (c) => {
      const actor = actorOf(c);
      if (actor.role !== 'admin') throw forbidden('Only admins can manage users');
      const { id } = c.req.valid('param');
      await getUser(db, actor, id); // 404 for a user who does not exist
      if (await removeMfa(db, id))
        deps.logger.info({ user_id: id, by: actor.id }, 'two-factor sign-in reset');
      return c.body(null, 204);
    },
  );
}
