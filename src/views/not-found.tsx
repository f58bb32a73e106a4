import { type AssetUrl, Layout } from './layout.tsx';

/** The page for an address with nothing behind it, when a browser asks for a page. */
export function NotFoundPage(props: {
  asset: AssetUrl;
  path: string;
  user?: { username: string; role: string } | undefined;
}) {
  return (
    <Layout title="Page not found" asset={props.asset} user={props.user}>
      <div class="card narrow">
        <h1>Page not found</h1>
        <p>
          There is no page at <code>{props.path}</code>. It may have moved, or the link may be mistyped.
        </p>
        <p>
          {props.user ? <a href="/dashboard">Back to the dashboard</a> : <a href="/login">Go to sign-in</a>}
        </p>
      </div>
    </Layout>
  );
}
