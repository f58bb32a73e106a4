import { type AssetUrl, Layout } from './layout.tsx';

/**
 * A page that does not exist for this person (never there, deleted, or out of their reach: the
 * three look the same, so nothing leaks), with ways back.
 */
export function MissingPage(props: {
  asset: AssetUrl;
  user?: { username: string; role: string } | undefined;
  what: string;
  back: { href: string; label: string };
}) {
  return (
    <Layout title={`${props.what} not found`} asset={props.asset} user={props.user}>
      <div class="card narrow" data-missing>
        <h1>{props.what} not found</h1>
        <p>
          There is no such {props.what.toLowerCase()}, or it is not shared with you. It may have been deleted.
        </p>
        <p>
          <a href={props.back.href}>{props.back.label}</a> · <a href="/dashboard">Dashboard</a>
        </p>
      </div>
    </Layout>
  );
}
