import type { Child } from 'hono/jsx';
import { type AssetUrl, Layout } from '../views/layout.tsx';

export interface SessionView {
  id: string;
  created_at: Date;
  /** When a request last came with it, to the minute. */
  last_used_at: Date;
  expires_at: Date;
  user_agent: string;
  client_address: string;
}

/** A short human name for a browser from its User-Agent. */
function deviceName(userAgent: string): string {
  if (!userAgent) return 'Unknown client';
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Chrom(e|ium)\//.test(userAgent)
      ? 'Chrome'
      : /Firefox\//.test(userAgent)
        ? 'Firefox'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : userAgent.split(/[ /]/)[0]!;
  const os = /Android/.test(userAgent)
    ? 'Android'
    : /iPhone|iPad/.test(userAgent)
      ? 'iOS'
      : /Mac OS X/.test(userAgent)
        ? 'macOS'
        : /Windows/.test(userAgent)
          ? 'Windows'
          : /Linux/.test(userAgent)
            ? 'Linux'
            : '';
  return os ? `${browser} on ${os}` : browser;
}

/**
 * Ending a sign-in: htmx posts it and follows the server's redirect back to this page, keeping its
 * #sessions section (public/js/write-guard.js says so when it does not get through); without
 * JavaScript, a plain form.
 */
const hx = (action: string) => ({
  'hx-post': action,
  'hx-target': '#sessions',
  'hx-select': '#sessions',
  'hx-swap': 'outerHTML',
});

const when = (d: Date) => d.toISOString().slice(0, 16).replace('T', ' ');

/** "3 minutes ago": last use is kept to the minute, so anything closer is "in the last minute". */
export function ago(then: Date, now = new Date()): string {
  const minutes = Math.floor((now.getTime() - then.getTime()) / 60_000);
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'} ago`;
  if (minutes < 1) return 'in the last minute';
  if (minutes < 60) return unit(minutes, 'minute');
  if (minutes < 48 * 60) return unit(Math.floor(minutes / 60), 'hour');
  return unit(Math.floor(minutes / (24 * 60)), 'day');
}

/** My sign-ins on every device; end one, or all but this one. */
export function AccountPage(props: {
  asset: AssetUrl;
  user: { username: string; role: string };
  sessions: SessionView[];
  current: string;
  /** Password and two-factor sections (src/auth/security-view.tsx). */
  security?: Child;
  notice?: string | undefined;
}) {
  return (
    <Layout
      title="Account"
      asset={props.asset}
      user={props.user}
      scripts={['htmx.js']}
      modules={['write-guard.js']}
    >
      <h1>Account</h1>
      <p>
        <a href="/dashboard">Back to the dashboard</a>
      </p>
      {props.notice && (
        <p role="status" class="notice">
          {props.notice}
        </p>
      )}
      {props.security}
      <section id="sessions" aria-label="Signed-in devices" class="card">
        <h2>Where you are signed in</h2>
        <table class="cards">
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">Address</th>
              <th scope="col">Last used</th>
              <th scope="col">Signed in (UTC)</th>
              <th scope="col">Expires (UTC)</th>
              <th scope="col">
                <span class="sr-only">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {props.sessions.map((s) => (
              <tr data-session={s.id}>
                <td>
                  {deviceName(s.user_agent)}
                  {s.id === props.current && <strong class="this-device"> (this device)</strong>}
                </td>
                <td data-label="Address">{s.client_address}</td>
                <td data-last-used data-label="Last used">
                  {/* This device is the one asking: in use now, whatever the stored minute says. */}
                  {s.id === props.current ? (
                    'Now'
                  ) : (
                    <time datetime={s.last_used_at.toISOString()} title={`${when(s.last_used_at)} UTC`}>
                      {ago(s.last_used_at)}
                    </time>
                  )}
                </td>
                <td data-label="Signed in (UTC)">{when(s.created_at)}</td>
                <td data-label="Expires (UTC)">{when(s.expires_at)}</td>
                <td>
                  {s.id === props.current ? (
                    <form method="post" action="/logout">
                      <button type="submit">Sign out</button>
                    </form>
                  ) : (
                    <form
                      method="post"
                      action={`/account/sessions/${s.id}/end`}
                      {...hx(`/account/sessions/${s.id}/end`)}
                    >
                      <button
                        type="submit"
                        aria-label={`Sign out ${deviceName(s.user_agent)} signed in ${when(s.created_at)}`}
                      >
                        Sign out
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {props.sessions.length > 1 && (
          <form
            method="post"
            action="/account/sessions/end-others"
            {...hx('/account/sessions/end-others')}
            class="stack"
          >
            <button type="submit">Sign out everywhere else</button>
          </form>
        )}
      </section>
    </Layout>
  );
}
