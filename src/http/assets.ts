import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { App } from './context.js';

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/**
 * Every asset the pages use, served by the portal itself (no CDN): logical name → source file.
 * Order matters: a module is listed after the modules it imports, so that its import
 * specifiers can be rewritten to their fingerprinted URLs before it is hashed itself.
 */
const SOURCES: [name: string, file: string][] = [
  ['portal.css', 'public/css/portal.css'],
  ['chart.js', 'node_modules/chart.js/dist/chart.umd.js'],
  ['htmx.js', 'node_modules/htmx.org/dist/htmx.min.js'],
  ['live-document.js', 'public/js/live-document.js'],
  ['dashboard.js', 'public/js/dashboard.js'],
  ['live-events.js', 'public/js/live-events.js'],
  ['task-dialog.js', 'public/js/task-dialog.js'],
  ['task-board.js', 'public/js/task-board.js'],
];

const TYPES: Record<string, string> = {
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
};

export interface Asset {
  url: string;
  body: Uint8Array;
  type: string;
}

/** Reads and fingerprints the assets once at start-up; URLs change whenever content does. */
export function buildAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [name, file] of SOURCES) {
    let text = readFileSync(root(file), 'utf8');
    for (const [dep, asset] of assets) text = text.replaceAll(`'./${dep}'`, `'${asset.url}'`);
    const body = new TextEncoder().encode(text);
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
    const ext = name.slice(name.lastIndexOf('.') + 1);
    const base = name.slice(0, name.lastIndexOf('.'));
    assets.set(name, {
      url: `/assets/${base}.${hash}.${ext}`,
      body,
      type: TYPES[ext] ?? 'application/octet-stream',
    });
  }
  return assets;
}

/** Fingerprinted URLs never change content: cache them for a year. */
export function registerAssets(app: App, assets: Map<string, Asset>) {
  const byUrl = new Map([...assets.values()].map((a) => [a.url, a]));
  app.get('/assets/*', (c) => {
    const asset = byUrl.get(c.req.path);
    if (!asset) return c.text('Not found', 404);
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, {
      'content-type': asset.type,
      'cache-control': 'public, max-age=31536000, immutable',
    });
  });
}
