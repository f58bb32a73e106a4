import { type AssetUrl, Layout } from '../views/layout.tsx';

const MESSAGES: Record<string, string> = {
  invalid: 'Wrong username or password.',
  missing: 'Enter your username and password.',
  deactivated: 'This account is deactivated. Ask an admin to reactivate it.',
  throttled: 'Too many failed attempts.',
  code: 'Wrong or already used code.',
  expired: 'The sign-in took too long. Enter your password again.',
};

export function LoginPage(props: {
  asset: AssetUrl;
  error?: string | undefined;
  /** Seconds to wait after too many failures: a number the server parsed, never raw text. */
  retry?: number | undefined;
  next: string;
  username: string;
  /** `code`: the password was right, now the second factor. */
  step?: 'password' | 'code';
}) {
  const message = props.error ? (MESSAGES[props.error] ?? MESSAGES.invalid) : undefined;
  return (
    <Layout title="Sign in" asset={props.asset}>
      <div class="card narrow">
        <h1>Sign in</h1>
        {message && (
          <p class="error" role="alert">
            {message}
            {props.error === 'throttled' && props.retry ? ` Try again in ${props.retry} seconds.` : ''}
          </p>
        )}
        {props.step === 'code' ? (
          <form method="post" action="/login" class="stack">
            <input type="hidden" name="next" value={props.next} />
            <input type="hidden" name="step" value="code" />
            <label for="code">Code from your authenticator app</label>
            <input
              id="code"
              name="code"
              type="text"
              inputmode="numeric"
              autocomplete="one-time-code"
              required
              autofocus
              aria-describedby="code-hint"
              maxlength={20}
            />
            <p id="code-hint" class="muted">
              Six digits, or one of your recovery codes if you do not have your phone.
            </p>
            <button type="submit">Verify</button>
            <a href="/login">Start again</a>
          </form>
        ) : (
          <form method="post" action="/login" class="stack">
            <input type="hidden" name="next" value={props.next} />
            <label for="username">Username</label>
            <input
              id="username"
              name="username"
              type="text"
              autocomplete="username"
              required
              value={props.username}
              autofocus
            />
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
            <button type="submit">Sign in</button>
          </form>
        )}
      </div>
    </Layout>
  );
}
