import { type AssetUrl, Field, type FieldErrors, Layout } from '../views/layout.tsx';
import { MIN_PASSWORD_LENGTH } from './passwords.ts';

type PageUser = { username: string; role: string };

/** The rule, shown before the person types (the server checks the same rule). */
export const PASSWORD_RULES = `At least ${MIN_PASSWORD_LENGTH} characters, and not containing your username.`;

/** Change my password: current one, new one (rules shown up front), errors inline. */
export function ChangePasswordForm(props: { errors?: FieldErrors; message?: string | undefined }) {
  const errors = props.errors ?? {};
  return (
    <section class="card" aria-labelledby="change-password">
      <h2 id="change-password">Change password</h2>
      {props.message && (
        <p class="error" role="alert">
          {props.message}
        </p>
      )}
      <form method="post" action="/account/password" class="stack">
        <Field
          id="current_password"
          name="current_password"
          label="Current password"
          type="password"
          autocomplete="current-password"
          required
          errors={errors}
        />
        <Field
          id="new_password"
          name="new_password"
          label="New password"
          type="password"
          autocomplete="new-password"
          required
          errors={errors}
        />
        <p class="muted" id="password-rules">
          {PASSWORD_RULES} Your other sign-ins end when you change it.
        </p>
        <Field
          id="confirm_password"
          name="confirm_password"
          label="New password again"
          type="password"
          autocomplete="new-password"
          required
          errors={errors}
        />
        <button type="submit">Change password</button>
      </form>
    </section>
  );
}

/** Two-factor sign-in on /account: its state, and the step that fits it. */
export function TwoFactorSection(props: {
  state: 'off' | 'pending' | 'on';
  recoveryLeft: number;
  errors?: FieldErrors;
}) {
  const errors = props.errors ?? {};
  return (
    <section class="card" aria-labelledby="two-factor">
      <h2 id="two-factor">Two-factor sign-in</h2>
      {props.state === 'on' ? (
        <>
          <p>
            <strong>On.</strong> Signing in needs a code from your authenticator app (or a recovery code).{' '}
            {props.recoveryLeft} unused recovery code{props.recoveryLeft === 1 ? '' : 's'} left.
          </p>
          <form method="post" action="/account/mfa/disable" class="stack">
            <Field
              id="disable-code"
              name="code"
              label="Code or recovery code, to turn it off"
              autocomplete="one-time-code"
              required
              errors={errors}
            />
            <button type="submit" class="danger">
              Turn off two-factor sign-in
            </button>
          </form>
        </>
      ) : (
        <>
          <p>
            <strong>Off.</strong> Add an authenticator app (any TOTP app) so that a stolen password alone
            cannot sign in.
          </p>
          {props.state === 'pending' && (
            <p>
              <a href="/account/mfa/setup">Continue setting up</a>
            </p>
          )}
          <form method="post" action="/account/mfa/start">
            <button type="submit">Set up two-factor sign-in</button>
          </form>
        </>
      )}
    </section>
  );
}

/** The setup step: the QR code and the secret for typing in, then the first code. */
export function MfaSetupPage(props: {
  asset: AssetUrl;
  user: PageUser;
  qr: string;
  secret: string;
  errors?: FieldErrors;
}) {
  const grouped = props.secret.match(/.{1,4}/g)?.join(' ') ?? props.secret;
  return (
    <Layout title="Set up two-factor sign-in" asset={props.asset} user={props.user}>
      <h1>Set up two-factor sign-in</h1>
      <section class="card stack" aria-label="Authenticator app">
        <p>1. Scan this code with your authenticator app.</p>
        <img src={props.qr} alt="QR code for your authenticator app" width="200" height="200" />
        <p>
          Or type this key: <code data-secret>{grouped}</code>
        </p>
        <p>2. Enter the six-digit code the app shows.</p>
        <form method="post" action="/account/mfa/verify" class="stack">
          <Field
            id="verify-code"
            name="code"
            label="Code"
            autocomplete="one-time-code"
            required
            autofocus
            errors={props.errors ?? {}}
          />
          <button type="submit">Turn on</button>
        </form>
        <p>
          <a href="/account">Cancel</a>
        </p>
      </section>
    </Layout>
  );
}

/** Shown once, right after turning two-factor sign-in on. */
export function RecoveryCodesPage(props: { asset: AssetUrl; user: PageUser; codes: string[] }) {
  return (
    <Layout title="Recovery codes" asset={props.asset} user={props.user}>
      <h1>Two-factor sign-in is on</h1>
      <section class="card" aria-label="Recovery codes">
        <p>
          Keep these recovery codes somewhere safe. Each one signs you in once if you lose your phone. They
          are shown only now.
        </p>
        <ul data-recovery-codes>
          {props.codes.map((code) => (
            <li>
              <code>{code}</code>
            </li>
          ))}
        </ul>
        <p>
          <a href="/account">Done</a>
        </p>
      </section>
    </Layout>
  );
}

/** The only page a user who must change their password can reach. */
export function ChangePasswordPage(props: {
  asset: AssetUrl;
  user: PageUser;
  required: boolean;
  errors?: FieldErrors;
  message?: string | undefined;
}) {
  return (
    <Layout title="Change password" asset={props.asset} user={props.user} live={!props.required}>
      <h1>Change your password</h1>
      {props.required && (
        <p role="status">An admin asked you to choose a new password before you continue.</p>
      )}
      <ChangePasswordForm errors={props.errors ?? {}} message={props.message} />
    </Layout>
  );
}
