import type { Child } from 'hono/jsx';

const STYLE = `:root{color-scheme:light dark;--fg:#1b1b1f;--bg:#fafafa;--card:#fff;--line:#d4d4d8;--accent:#1d4ed8}
@media (prefers-color-scheme:dark){:root{--fg:#ececf1;--bg:#121214;--card:#1c1c20;--line:#3f3f46;--accent:#93b4ff}}
body{margin:0;font:16px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:64rem;margin:0 auto;padding:1.5rem}header{display:flex;gap:1rem;align-items:center;justify-content:space-between;padding:.75rem 1.5rem;border-bottom:1px solid var(--line)}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.75rem}
.tile b{display:block;font-size:1.75rem}label{display:block;margin:.75rem 0 .25rem}
input{font:inherit;padding:.5rem;width:100%;box-sizing:border-box;border:1px solid var(--line);border-radius:6px;background:var(--card);color:var(--fg)}
button{font:inherit;padding:.5rem 1rem;border-radius:6px;border:0;background:var(--accent);color:var(--bg);cursor:pointer;margin-top:1rem}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}.error{color:#b91c1c}@media (prefers-color-scheme:dark){.error{color:#fca5a5}}
a{color:var(--accent)}`;

export function Layout(props: { title: string; children: Child; user?: { username: string; role: string } }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · Enterprise Portal</title>
        <style>{STYLE}</style>
      </head>
      <body>
        <header>
          <strong>Enterprise Portal</strong>
          {props.user && (
            <form method="post" action="/logout">
              <span>
                {props.user.username} ({props.user.role})
              </span>{' '}
              <button type="submit">Sign out</button>
            </form>
          )}
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}
