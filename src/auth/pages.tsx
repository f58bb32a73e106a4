import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import QRCode from 'qrcode';
import type { Db } from '../db/database.ts';
import type { App, AppDeps } from '../http/context.ts';
import { ApiError } from '../http/errors.ts';
import { formErrors, formFields, refusalOf } from '../http/forms.ts';
import { clientAddress } from '../http/middleware/client.ts';
import { signedIn } from '../http/page-kit.tsx';
import { Password } from '../http/schemas.ts';
import { fieldErrors } from '../http/validation.ts';
import type { AssetUrl, FieldErrors } from '../views/layout.tsx';
import { changeOwnPassword, throttledCheck } from './account.ts';
import { AccountPage } from './account-view.tsx';
import type { Actor } from './actor.ts';
import { MFA_PENDING_COOKIE, retrySeconds, safeNext } from './api.ts';
import { LoginPage } from './login-view.tsx';
import {
  confirmEnrolment,
  mfaState,
  pendingEnrolment,
  recoveryCodesLeft,
  removeMfa,
  startEnrolment,
  useSecondFactor,
} from './mfa.ts';
import { CHANGE_PASSWORD_PAGE } from './password-change.ts';
import type { SecretBox } from './secret-box.ts';
import { SecondFactorCode } from './security-api.ts';
import {
  ChangePasswordForm,
  ChangePasswordPage,
  MfaSetupPage,
  RecoveryCodesPage,
  TwoFactorSection,
} from './security-view.tsx';
import { listSessions, revokeAllSessions, revokeSession } from './sessions.ts';

const PasswordForm = z
  .object({
    current_password: z.string().min(1, 'must not be empty').max(1024),
    new_password: Password,
    confirm_password: z.string(),
  })
  .refine((f) => f.new_password === f.confirm_password, {
    path: ['confirm_password'],
    message: 'does not match the new password',
  });

/** The account page's password and two-factor sections, for `GET /account`. */
export async function accountSecurity(
  db: Db,
  actor: Actor,
  forms: { password?: { errors?: FieldErrors; message?: string }; mfa?: FieldErrors } = {},
) {
  const state = await mfaState(db, actor.id);
  const left = state === 'on' ? await recoveryCodesLeft(db, actor.id) : 0;
  return (
    <>
      <ChangePasswordForm errors={forms.password?.errors ?? {}} message={forms.password?.message} />
      <TwoFactorSection state={state} recoveryLeft={left} errors={forms.mfa ?? {}} />
    </>
  );
}

const NOTICES: Record<string, string> = {
  password: 'Your password is changed; your other sign-ins have ended.',
  'mfa-off': 'Two-factor sign-in is off.',
};

/** Sign-in and account pages: sign in, my sign-ins, my password and two-factor sign-in (forms, no scripts). */
export function registerAccountPages(app: App, deps: AppDeps & { mfa: SecretBox }, asset: AssetUrl) {
  const { db } = deps.database;
  /** The account page: my sign-ins, my password and two-factor forms (with what a refused form sent). */
  const accountPage = async (
    c: Context,
    actor: Actor,
    forms: Parameters<typeof accountSecurity>[2],
    notice?: string,
  ) => {
    const [sessions, security] = await Promise.all([
      listSessions(db, actor.id),
      accountSecurity(db, actor, forms),
    ]);
    return c.html(
      <AccountPage
        asset={asset}
        user={actor}
        sessions={sessions}
        current={actor.sessionId}
        security={security}
        notice={notice}
      />,
    );
  };

  app.get('/login', (c) => {
    if (c.get('actor')) return c.redirect(safeNext(c.req.query('next')), 302);
    return c.html(
      <LoginPage
        asset={asset}
        error={c.req.query('error')}
        retry={retrySeconds(c.req.query('retry'), deps.throttle.limits.windowSeconds)}
        next={safeNext(c.req.query('next'))}
        username={c.req.query('username') ?? ''}
        step={c.req.query('step') === 'code' && getCookie(c, MFA_PENDING_COOKIE) ? 'code' : 'password'}
      />,
    );
  });

  app.get('/account', signedIn(), (c) =>
    accountPage(c, c.get('user'), undefined, accountNotice(c.req.query('done'))),
  );

  // Forms, not fetch: cookie-authenticated, so the identify middleware has checked their Origin.
  app.post('/account/sessions/:sid/end', signedIn(), async (c) => {
    const actor = c.get('user');
    const sid = c.req.param('sid');
    if (/^[0-9a-f-]{36}$/.test(sid) && (await revokeSession(db, actor.id, sid))) {
      await deps.revokeRealtime?.(actor.id, sid);
    }
    return c.redirect('/account', 303);
  });

  app.post('/account/sessions/end-others', signedIn(), async (c) => {
    const actor = c.get('user');
    const ended = await revokeAllSessions(db, actor.id, actor.sessionId);
    for (const id of ended) await deps.revokeRealtime?.(actor.id, id);
    return c.redirect('/account', 303);
  });

  app.get(CHANGE_PASSWORD_PAGE, signedIn(), (c) => {
    const actor = c.get('user');
    return c.html(<ChangePasswordPage asset={asset} user={actor} required={c.get('mustChangePassword')} />);
  });

  // Posted from /account and from the change-password page; errors come back inline on the page
  // the form was on (the required page while the change is still owed).
  app.post(CHANGE_PASSWORD_PAGE, signedIn(), async (c) => {
    const actor = c.get('user');
    const required = c.get('mustChangePassword');
    const refuse = (errors: FieldErrors, message?: string) =>
      required
        ? c.html(<ChangePasswordPage asset={asset} user={actor} required errors={errors} message={message} />)
        : accountPage(c, actor, { password: { errors, ...(message ? { message } : {}) } });
    const parsed = PasswordForm.safeParse(await formFields(c));
    if (!parsed.success) return refuse(formErrors(fieldErrors(parsed.error)));
    try {
      const ended = await changeOwnPassword({ db, throttle: deps.throttle }, actor, {
        ...parsed.data,
        clientAddress: clientAddress(c, deps),
      });
      for (const id of ended) await deps.revokeRealtime?.(actor.id, id);
      return c.redirect(required ? '/dashboard' : '/account?done=password', 303);
    } catch (thrown) {
      const { error, errors } = refusalOf(thrown);
      if (error.code === 'wrong_password') return refuse({ current_password: 'is wrong' });
      return refuse(errors ?? {}, errors ? undefined : error.message);
    }
  });

  app.post('/account/mfa/start', signedIn(), async (c) => {
    const actor = c.get('user');
    try {
      await startEnrolment(db, deps.mfa, actor);
    } catch (thrown) {
      refusalOf(thrown); // already on: the account page says so
    }
    return c.redirect('/account/mfa/setup', 303);
  });

  const setupPage = async (c: Context, actor: Actor, errors?: FieldErrors) => {
    const pending = await pendingEnrolment(db, deps.mfa, actor);
    if (!pending) return c.redirect('/account', 303);
    const qr = await QRCode.toDataURL(pending.otpauth_url, {
      errorCorrectionLevel: 'M',
      margin: 1,
      width: 200,
    });
    c.header('Cache-Control', 'no-store');
    return c.html(
      <MfaSetupPage asset={asset} user={actor} qr={qr} secret={pending.secret} errors={errors ?? {}} />,
    );
  };

  app.get('/account/mfa/setup', signedIn(), async (c) => {
    const actor = c.get('user');
    return setupPage(c, actor);
  });

  /** A code from a form, checked under the sign-in throttle; a field error when refused. */
  const checkCode = async (
    c: Context,
    actor: Actor,
    use: (code: string) => Promise<boolean>,
  ): Promise<FieldErrors | undefined> => {
    const code = SecondFactorCode.safeParse((await formFields(c)).code ?? '');
    if (!code.success) return { code: 'must be a 6-digit code or a recovery code' };
    try {
      await throttledCheck(
        { db: deps.database.db, throttle: deps.throttle },
        { username: actor.username, address: clientAddress(c, deps) },
        () => use(code.data),
        () => new ApiError('wrong_code', 'Wrong or already used code'),
      );
      return undefined;
    } catch (thrown) {
      const { error } = refusalOf(thrown);
      return { code: error.code === 'wrong_code' ? 'is wrong or already used' : error.message };
    }
  };

  app.post('/account/mfa/verify', signedIn(), async (c) => {
    const actor = c.get('user');
    let codes: string[] | undefined;
    const errors = await checkCode(c, actor, async (code) => {
      try {
        codes = await confirmEnrolment(db, deps.mfa, actor.id, code);
      } catch (thrown) {
        refusalOf(thrown); // already on, or nothing pending: back to the account page
        return true;
      }
      return codes !== undefined;
    });
    if (errors) return setupPage(c, actor, errors);
    if (!codes) return c.redirect('/account', 303);
    c.header('Cache-Control', 'no-store');
    return c.html(<RecoveryCodesPage asset={asset} user={actor} codes={codes} />);
  });

  app.post('/account/mfa/disable', signedIn(), async (c) => {
    const actor = c.get('user');
    if ((await mfaState(db, actor.id)) === 'on') {
      const errors = await checkCode(c, actor, (code) => useSecondFactor(db, deps.mfa, actor.id, code));
      if (errors) return accountPage(c, actor, { mfa: errors });
    }
    await removeMfa(db, actor.id);
    return c.redirect('/account?done=mfa-off', 303);
  });
}

export const accountNotice = (done: string | undefined) => (done ? NOTICES[done] : undefined);
