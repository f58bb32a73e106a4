import { type AssetUrl, withDoctype } from '../views/layout.tsx';
import type { App } from './context.ts';

const INFO = {
  openapi: '3.0.3',
  info: {
    title: 'Enterprise Portal API',
    version: '1.0.0',
    description:
      'Errors: `{"error": {"code", "message", "details?"}}`. Lists: `{items, total}` with `limit` (≤ 200) and `offset`. ' +
      'Objects outside your scope answer 404.',
    license: { name: 'Proprietary: internal use only', url: '/api/docs' },
  },
  servers: [{ url: '/', description: 'This portal' }],
};

type Json = Record<string, unknown>;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** `get /api/tasks/{id}` → `getTasksById`: a stable id for operations that do not name one. */
export function operationIdFor(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((part) => part && part !== 'api')
    .map((part) => (part.startsWith('{') ? `by-${part.slice(1, -1)}` : part))
    .flatMap((part) => part.split(/[^A-Za-z0-9]+/))
    .filter(Boolean);
  return method + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

/**
 * What the generator leaves for OpenAPI 3.0 linters: `z.unknown()` becomes `nullable` without a
 * `type` (meaningless in 3.0.3, so dropped), and routes without an `operationId` get one.
 */
export function polishDocument<T>(doc: T): T {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const o = node as Json;
    if (
      o.nullable === true &&
      o.type === undefined &&
      o.$ref === undefined &&
      !o.allOf &&
      !o.oneOf &&
      !o.anyOf
    )
      delete o.nullable;
    for (const value of Object.values(o)) visit(value);
  };
  visit(doc);
  const paths = ((doc as Json).paths ?? {}) as Record<string, Record<string, Json>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (METHODS.includes(method) && !op.operationId) op.operationId = operationIdFor(method, path);
    }
  }
  return doc;
}

type Operation = {
  summary?: string;
  description?: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: unknown; description?: string }[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string }>;
};

/** An operation's anchor: letters, digits, dashes and underscores only (`get-api-tasks-id`), so it is a valid id. */
const anchorOf = (method: string, path: string) =>
  `${method}-${path}`.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/-+$/, '');

/** The OpenAPI document (generated from the route schemas) and a page that reads it, no CDN. */
export function registerDocs(app: App, asset: AssetUrl) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'cookie', {
    type: 'apiKey',
    in: 'cookie',
    name: 'portal_session',
  });

  let cached: ReturnType<App['getOpenAPIDocument']> | undefined;
  const document = () => {
    cached ??= polishDocument(app.getOpenAPIDocument(INFO));
    return cached;
  };

  app.get('/api/openapi.json', (c) => c.json(document()));

  app.get('/api/docs', (c) => {
    const doc = document();
    const operations = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
      Object.entries(item as Record<string, Operation>).map(([method, op]) => ({ path, method, op })),
    );
    const page = (
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{doc.info.title}</title>
          <link rel="icon" href="data:," />
          <link rel="stylesheet" href={asset('portal.css')} />
        </head>
        <body>
          <main class="docs">
            <h1>{doc.info.title}</h1>
            <p>{doc.info.description}</p>
            <p>
              Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a>
            </p>
            {operations.map(({ path, method, op }) => (
              <section id={anchorOf(method, path)}>
                <h2>
                  <span class="m">{method}</span> <code>{path}</code>
                </h2>
                <p>{op.summary}</p>
                {op.description && <p>{op.description}</p>}
                {op.parameters?.length ? (
                  <ul>
                    {op.parameters.map((p) => (
                      <li>
                        <code>{p.name}</code> ({p.in}
                        {p.required ? ', required' : ''}) {p.description}
                      </li>
                    ))}
                  </ul>
                ) : null}
                {op.requestBody?.content?.['application/json'] && (
                  <details>
                    <summary>Request body</summary>
                    <pre>{JSON.stringify(op.requestBody.content['application/json'].schema, null, 2)}</pre>
                  </details>
                )}
                <p>
                  Responses:{' '}
                  {Object.entries(op.responses ?? {})
                    .map(([status, r]) => `${status} ${r.description ?? ''}`)
                    .join(' · ')}
                </p>
              </section>
            ))}
            <section>
              <h2>Schemas</h2>
              <pre>{JSON.stringify(doc.components?.schemas ?? {}, null, 2)}</pre>
            </section>
          </main>
        </body>
      </html>
    );
    return c.html(withDoctype(page));
  });
}
