import { type AssetUrl, Layout } from './layout.tsx';

/**
 * A page the signed-in person may not open (a manager on /users, a user on /audit): what it is,
 * why they cannot see it, who can, and ways back. Answered with 403, as HTML for a browser.
 */
export function ForbiddenPage(props: {
  asset: AssetUrl;
  user?: { username: string; role: string } | undefined;
  /** Why, as a sentence: "User management is only for admins." */
  reason: string;
}) {
  return (
    <Layout title="Not allowed" asset={props.asset} user={props.user}>
      <div class="card narrow" data-forbidden>
        <h1>You cannot open this page</h1>
        <p>
          {props.reason}
          {props.user ? ` You are signed in as ${props.user.username} (${props.user.role}).` : ''} If you need
          it, ask an admin.
        </p>
        <p>
          <a href="/dashboard">Back to the dashboard</a> · <a href="/tasks">Tasks</a>
        </p>
      </div>
    </Layout>
  );
}
