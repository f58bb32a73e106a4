import { html } from 'hono/html';
import type { Child } from 'hono/jsx';
import { Notices, NotificationBell } from '../notifications/view.tsx';

/** A whole page starts with the doctype: without it a browser renders in quirks mode. */
export const withDoctype = (page: Child) => html`<!doctype html>${page}`;

/** Fingerprinted URL of an asset by its logical name (see src/http/assets.ts). */
export type AssetUrl = (name: string) => string;

/**
 * The connection line of a live page: the `connection` component of public/js/alpine-components.js
 * keeps its state (`data-connection`) and its words current; `offline` replaces the word Offline.
 */
export function LiveStatus(props: { offline?: string }) {
  return (
    <p
      class="connection"
      role="status"
      aria-live="polite"
      data-connection-label
      data-connection="reconnecting"
      data-offline={props.offline}
      x-data="connection"
      x-bind:data-connection="shown"
      x-text="label"
    >
      Connecting…
    </p>
  );
}

export function Layout(props: {
  title: string;
  asset: AssetUrl;
  children: Child;
  user?: { username: string; role: string };
  scripts?: string[];
  modules?: string[];
  /** false: no live parts (bell, realtime socket), e.g. while the user must change their password. */
  live?: boolean;
}) {
  const live = props.user !== undefined && props.live !== false;
  return withDoctype(
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · Enterprise Portal</title>
        <meta
          name="description"
          content="Enterprise Portal: projects, tasks and live dashboards for your team."
        />
        <link rel="icon" href="data:," />
        {/* htmx must not inject its indicator <style>, nor copy an element's style attribute onto
            its swapped-in twin while settling (a resized textarea has one): the CSP allows no
            inline styles. Settled at once (no 20 ms settle delay): htmx attaches a swapped-in
            control's triggers only when it settles, so a status picked in those 20 ms was shown
            but never saved (public/js/live-refresh.js; test/tasks/live-refresh.browser.test.ts). */}
        <meta
          name="htmx-config"
          content='{"includeIndicatorStyles":false,"attributesToSettle":["class","width","height"],"defaultSettleDelay":0}'
        />
        <link rel="stylesheet" href={props.asset('portal.css')} />
        {/* Deferred: nothing blocks the first paint. */}
        {props.scripts?.map((name) => (
          <script src={props.asset(name)} defer />
        ))}
        {props.modules?.map((name) => (
          <script type="module" src={props.asset(name)} />
        ))}
        {live && <script type="module" src={props.asset('notifications.js')} />}
        {live && <script type="module" src={props.asset('alpine-components.js')} />}
      </head>
      <body>
        <header class="top">
          <nav aria-label="Main">
            <strong>
              <a href="/dashboard">Enterprise Portal</a>
            </strong>
            {props.user && <a href="/projects">Projects</a>}
            {props.user && <a href="/tasks">Tasks</a>}
            {props.user && props.user.role !== 'user' && <a href="/workload">Workload</a>}
            {props.user?.role === 'admin' && <a href="/users">Users</a>}
            {props.user?.role === 'admin' && <a href="/audit">Activity</a>}
          </nav>
          {live && <NotificationBell />}
          {props.user && (
            <form method="post" action="/logout">
              <a href="/account">
                {props.user.username} ({props.user.role})
              </a>
              <button type="submit">Sign out</button>
            </form>
          )}
        </header>
        {live && <Notices />}
        <main>{props.children}</main>
      </body>
    </html>,
  );
}

/** Inline errors by field name, as the API's 422 details name them. */
export type FieldErrors = Record<string, string>;

/**
 * A labelled form control with its inline error: the error is tied to the control with
 * aria-invalid and aria-describedby, so a screen reader reads it with the field.
 */
export function Field(props: {
  id: string;
  name: string;
  label: string;
  errors: FieldErrors;
  value?: string | undefined;
  type?: string;
  kind?: 'input' | 'textarea' | 'select';
  options?: [value: string, label: string][];
  required?: boolean;
  autofocus?: boolean;
  autocomplete?: string;
  /** The id of more text to read with the field (e.g. a notice about what was just done). */
  describedBy?: string | undefined;
  /** The longest value allowed, stated on the field (public/js/char-count.js counts as one types). */
  maxlength?: number;
  /** The rules of the field, shown before anything is sent (e.g. a password's). */
  hint?: string;
}) {
  const error = props.errors[props.name];
  const describedBy = [error ? `${props.id}-error` : '', props.describedBy ?? ''].filter(Boolean).join(' ');
  const common = {
    id: props.id,
    name: props.name,
    required: props.required,
    autofocus: props.autofocus,
    'aria-invalid': error ? ('true' as const) : undefined,
    'aria-describedby':
      [describedBy, props.hint ? `${props.id}-hint` : '', props.maxlength ? `${props.id}-limit` : '']
        .filter(Boolean)
        .join(' ') || undefined,
    maxlength: props.maxlength,
  };
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.kind === 'textarea' ? (
        <textarea {...common} rows={3}>
          {props.value ?? ''}
        </textarea>
      ) : props.kind === 'select' ? (
        <select {...common}>
          {(props.options ?? []).map(([value, label]) => (
            <option value={value} selected={value === (props.value ?? '')}>
              {label}
            </option>
          ))}
        </select>
      ) : (
        <input
          {...common}
          type={props.type ?? 'text'}
          value={props.value ?? ''}
          autocomplete={props.autocomplete ?? 'off'}
        />
      )}
      {props.hint && (
        <p class="muted hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      )}
      {props.maxlength && (
        <p class="muted hint" id={`${props.id}-limit`} data-limit={props.maxlength}>
          Up to {props.maxlength.toLocaleString('en')} characters.
        </p>
      )}
      {error && (
        <p class="error" id={`${props.id}-error`}>
          {props.label} {error}
        </p>
      )}
    </div>
  );
}
