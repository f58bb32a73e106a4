import type { Child } from 'hono/jsx';
import { type AssetUrl, Layout, LiveStatus } from './layout.tsx';

/**
 * A page that follows the realtime stream (public/js/live-events.js): htmx, the connection
 * indicator, and a body whose parts reload themselves on every change event.
 */
export function LivePage(props: {
  asset: AssetUrl;
  user: { username: string; role: string };
  title: string;
  children: Child;
}) {
  return (
    <Layout
      title={props.title}
      asset={props.asset}
      user={props.user}
      scripts={['htmx.js']}
      modules={['live-events.js']}
    >
      <div data-live>
        <LiveStatus />
        {props.children}
      </div>
    </Layout>
  );
}

/**
 * The frame of one object's page (a task, a project): a way back, the connection indicator, and
 * a body that htmx reloads from `url` (picking `#<fragmentId>`) on every realtime change event.
 */
export function LiveObjectPage(props: {
  asset: AssetUrl;
  user: { username: string; role: string };
  title: string;
  back: { href: string; label: string };
  url: string;
  fragmentId: string;
  children: Child;
}) {
  return (
    <LivePage title={props.title} asset={props.asset} user={props.user}>
      <p>
        <a href={props.back.href}>← {props.back.label}</a>
      </p>
      <div
        hx-get={props.url}
        hx-trigger="portal:change from:body"
        hx-select={`#${props.fragmentId}`}
        hx-swap="innerHTML"
      >
        {props.children}
      </div>
    </LivePage>
  );
}
