import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compress, type Encoding, negotiateEncoding } from './compression.ts';
import type { App } from './context.ts';

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
  // Alpine's CSP build (no eval): an ES module, imported through public/js/alpine.js, which
  // runs alpine-globals.js before it.
  ['alpine-globals.js', 'public/js/alpine-globals.js'],
  ['alpine-csp.js', 'node_modules/@alpinejs/csp/dist/module.esm.min.js'],
  ['alpine.js', 'public/js/alpine.js'],
  ['merge-patch.js', 'public/js/merge-patch.js'],
  ['protocol.js', 'public/js/protocol.js'],
  ['live-document.js', 'public/js/live-document.js'],
  ['page-live.js', 'public/js/page-live.js'],
  ['alpine-components.js', 'public/js/alpine-components.js'],
  ['dashboard.js', 'public/js/dashboard.js'],
  ['live-refresh.js', 'public/js/live-refresh.js'],
  ['live-events.js', 'public/js/live-events.js'],
  ['task-dialog.js', 'public/js/task-dialog.js'],
  ['write-guard.js', 'public/js/write-guard.js'],
  ['select-commit.js', 'public/js/select-commit.js'],
  ['notifications.js', 'public/js/notifications.js'],
  ['task-board.js', 'public/js/task-board.js'],
  ['confirm-dialog.js', 'public/js/confirm-dialog.js'],
  ['char-count.js', 'public/js/char-count.js'],
  ['edit-watch.js', 'public/js/edit-watch.js'],
];

const TYPES: Record<string, string> = {
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
};

export interface Asset {
  url: string;
  body: Uint8Array;
  type: string;
  /** The content hash of the URL: the asset's strong validator. */
  hash: string;
  /** When its source last changed (HTTP date, whole seconds). */
  lastModified: string;
  /**
   * The same bytes brotli- and gzip-compressed once, at their best settings (only when smaller).
   * Started at start-up off the event loop (brotli's best takes seconds for Chart.js); the first
   * request for the asset waits for it.
   */
  encoded: Promise<Partial<Record<Encoding, Uint8Array>>>;
}

async function precompress(body: Uint8Array): Promise<Partial<Record<Encoding, Uint8Array>>> {
  const [br, gzip] = await Promise.all([compress('br', body, true), compress('gzip', body, true)]);
  return {
    ...(br.byteLength < body.byteLength ? { br } : {}),
    ...(gzip.byteLength < body.byteLength ? { gzip } : {}),
  };
}

/** Reads and fingerprints the assets once at start-up (URLs change whenever content does) and starts compressing them. */
export function buildAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [name, file] of SOURCES) {
    let text = readFileSync(root(file), 'utf8');
    let modified = statSync(root(file)).mtimeMs;
    for (const [dep, asset] of assets) {
      if (!text.includes(`'./${dep}'`)) continue;
      text = text.replaceAll(`'./${dep}'`, `'${asset.url}'`);
      modified = Math.max(modified, Date.parse(asset.lastModified));
    }
    const body = new TextEncoder().encode(text);
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
    const ext = name.slice(name.lastIndexOf('.') + 1);
    const base = name.slice(0, name.lastIndexOf('.'));
    const encoded = precompress(body);
    encoded.catch(() => {}); // awaited by the first request; a failure shows there
    assets.set(name, {
      url: `/assets/${base}.${hash}.${ext}`,
      body,
      type: TYPES[ext] ?? 'application/octet-stream',
      hash,
      lastModified: new Date(Math.floor(modified / 1000) * 1000).toUTCString(),
      encoded,
    });
  }
  return assets;
}

/** The entity tag of one representation: the content hash, and the coding when compressed. */
const etagOf = (asset: Asset, encoding: Encoding | undefined) =>
  `"${asset.hash}${encoding ? `-${encoding}` : ''}"`;

/** `If-None-Match` (weak comparison): does it name any representation of this asset? */
function noneMatch(header: string, asset: Asset): boolean {
  if (header.trim() === '*') return true;
  const tags = new Set([undefined, 'br' as const, 'gzip' as const].map((e) => etagOf(asset, e)));
  return header.split(',').some((tag) => tags.has(tag.trim().replace(/^W\//, '')));
}

/**
 * Fingerprinted URLs never change content: cached for a year, with an ETag and Last-Modified so
 * that a revalidation gets a 304. Compressed as the client accepts (precompressed at start-up).
 * An unknown asset gets the portal's 404 (JSON, or the HTML page when HTML is asked for).
 */
export function registerAssets(app: App, assets: Map<string, Asset>) {
  const byUrl = new Map([...assets.values()].map((a) => [a.url, a]));
  app.get('/assets/*', async (c) => {
    const asset = byUrl.get(c.req.path);
    if (!asset) return c.notFound();
    const encoded = await asset.encoded;
    const offered = Object.keys(encoded) as Encoding[];
    const encoding = negotiateEncoding(c.req.header('accept-encoding'), offered);
    const headers: Record<string, string> = {
      'cache-control': 'public, max-age=31536000, immutable',
      etag: etagOf(asset, encoding),
      'last-modified': asset.lastModified,
      vary: 'Accept-Encoding',
    };
    const inm = c.req.header('if-none-match');
    const ims = c.req.header('if-modified-since');
    const fresh =
      inm !== undefined
        ? noneMatch(inm, asset)
        : ims !== undefined && Date.parse(ims) >= Date.parse(asset.lastModified);
    if (fresh) return c.body(null, 304, headers);
    const body = encoding ? encoded[encoding]! : asset.body;
    return c.body(body as Uint8Array<ArrayBuffer>, 200, {
      ...headers,
      'content-type': asset.type,
      'content-length': String(body.byteLength),
      ...(encoding ? { 'content-encoding': encoding } : {}),
    });
  });
}
