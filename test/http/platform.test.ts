import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { brotliDecompressSync, createBrotliDecompress, createGunzip, gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { compression, negotiateEncoding } from '../../src/http/compression.ts';
import { listen } from '../../src/http/node-server.ts';
import { DEFAULT_RUNTIME, type Instance, startInstance } from '../support/cluster.ts';

/**
 * The web platform on the wire (issue 9, items 11–16; item 10, the metrics port, is in test/security), against a real `src/main.ts` process:
 * raw HTTP through node:http (no fetch: it would decompress and hide the headers that matter).
 */

const ADMIN = { username: 'chief', password: 'a-long-admin-password' };

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request over node:http: the status, headers and body bytes exactly as they came. */
function raw(
  base: string,
  path: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    agent?: http.Agent;
  } = {},
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${path}`,
      { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const decode = (r: Raw) => {
  const coding = r.headers['content-encoding'];
  if (coding === 'br') return brotliDecompressSync(r.body);
  if (coding === 'gzip') return gunzipSync(r.body);
  return r.body;
};

const varyList = (r: Raw) =>
  String(r.headers.vary ?? '')
    .split(',')
    .map((v) => v.trim().toLowerCase());

let inst: Instance;
let token: string;
let cookie: string;
/** Signed-in browser headers (the session cookie). */
const page = (extra: Record<string, string> = {}) => ({ cookie, accept: 'text/html', ...extra });
const bearer = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...extra });

/** Pages a signed-in admin can open; each is a whole HTML document. */
const PAGES = ['/dashboard', '/projects', '/tasks', '/tasks/new', '/users', '/audit', '/account'];

beforeAll(async () => {
  inst = await startInstance({
    DATABASE_URL: 'memory://',
    PORTAL_DEMO: '1',
    PORTAL_ADMIN_USERNAME: ADMIN.username,
    PORTAL_ADMIN_PASSWORD: ADMIN.password,
    TRUST_PROXY: '1',
  });
  const login = await raw(inst.base, '/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  expect(login.status).toBe(200);
  token = JSON.parse(login.body.toString()).token;
  cookie = `portal_session=${token}`;
}, 120_000);
afterAll(() => inst?.stop());

describe('11. every page is a standards-mode document', () => {
  it('starts every page with <!doctype html>', async () => {
    const anon = [await raw(inst.base, '/login'), await raw(inst.base, '/api/docs')];
    const signedIn = await Promise.all(PAGES.map((p) => raw(inst.base, p, { headers: page() })));
    const missing = await raw(inst.base, '/no/such/page', { headers: page() });
    for (const r of [...anon, ...signedIn, missing]) {
      expect(r.headers['content-type']).toMatch(/^text\/html/);
      expect(decode(r).toString().slice(0, 15).toLowerCase()).toBe('<!doctype html>');
    }
  });
});

describe('12. compression', () => {
  it('negotiates by q-value: brotli first on a tie, q=0 refuses, * stands for the rest', () => {
    expect(negotiateEncoding('gzip, deflate, br')).toBe('br');
    expect(negotiateEncoding('br;q=0, gzip')).toBe('gzip');
    expect(negotiateEncoding('gzip;q=1, br;q=0.5')).toBe('gzip');
    expect(negotiateEncoding('br;q=0.8, gzip;q=0.5')).toBe('br');
    expect(negotiateEncoding('*')).toBe('br');
    expect(negotiateEncoding('*;q=0.3, br;q=0')).toBe('gzip');
    expect(negotiateEncoding('identity')).toBeUndefined();
    expect(negotiateEncoding('gzip;q=0, br;q=0')).toBeUndefined();
    expect(negotiateEncoding('')).toBeUndefined();
    expect(negotiateEncoding(undefined)).toBeUndefined();
  });

  it('compresses the OpenAPI document as the client asks, with Vary and the compressed length', async () => {
    const plain = await raw(inst.base, '/api/openapi.json');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(varyList(plain)).toContain('accept-encoding');
    expect(plain.body.length).toBeGreaterThan(20_000);
    for (const [asked, expected] of [
      ['gzip, deflate, br', 'br'],
      ['gzip', 'gzip'],
      ['br;q=0.2, gzip;q=0.9', 'gzip'],
      ['br;q=0, gzip', 'gzip'],
      ['identity', undefined],
    ] as const) {
      const r = await raw(inst.base, '/api/openapi.json', { headers: { 'accept-encoding': asked } });
      expect(r.status).toBe(200);
      expect(r.headers['content-encoding']).toBe(expected);
      expect(varyList(r)).toContain('accept-encoding');
      expect(Number(r.headers['content-length'])).toBe(r.body.length);
      expect(decode(r).equals(plain.body)).toBe(true);
      if (expected) expect(r.body.length).toBeLessThan(plain.body.length / 5);
    }
  });

  it('compresses signed-in pages and API lists, but not answers under 1 KB', async () => {
    const dashboard = await raw(inst.base, '/dashboard', { headers: page({ 'accept-encoding': 'br' }) });
    expect(dashboard.headers['content-encoding']).toBe('br');
    expect(decode(dashboard).toString()).toContain('<h1');
    const users = await raw(inst.base, '/api/users?limit=50', {
      headers: bearer({ 'accept-encoding': 'gzip' }),
    });
    expect(users.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(decode(users).toString()).items.length).toBeGreaterThan(5);
    const small = await raw(inst.base, '/healthz', { headers: { 'accept-encoding': 'br, gzip' } });
    expect(small.body.length).toBeLessThan(1024);
    expect(small.headers['content-encoding']).toBeUndefined();
  });

  it('serves the Chart.js bundle precompressed (about 60 KB brotli, 70 KB gzip of 210 KB)', async () => {
    const html = decode(await raw(inst.base, '/dashboard', { headers: page() })).toString();
    const url = /src="(\/assets\/chart\.[0-9a-f]+\.js)"/.exec(html)![1]!;
    const plain = await raw(inst.base, url);
    expect(plain.body.length).toBeGreaterThan(150_000);
    const br = await raw(inst.base, url, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    const gz = await raw(inst.base, url, { headers: { 'accept-encoding': 'gzip' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(br.body.length).toBeLessThan(80_000);
    expect(gz.body.length).toBeLessThan(90_000);
    for (const r of [br, gz]) {
      expect(Number(r.headers['content-length'])).toBe(r.body.length);
      expect(varyList(r)).toContain('accept-encoding');
      expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(decode(r).equals(plain.body)).toBe(true);
    }
  });

  it('offers no compression on WebSocket frames (no permessage-deflate)', async () => {
    // The client offers permessage-deflate; the server must not take it up.
    const ws = new WebSocket(`${inst.wsBase}/ws`, { headers: bearer(), perMessageDeflate: true });
    const upgraded = once(ws, 'upgrade');
    const opened = once(ws, 'open'); // emitted right after 'upgrade', in the same turn
    const [res] = (await upgraded) as [http.IncomingMessage];
    expect(res.headers['sec-websocket-extensions']).toBeUndefined();
    await opened;
    expect(ws.extensions).toBe('');
    ws.terminate();
  });

  it('keeps a streamed answer streamed: each chunk reaches the client before the next is written', async () => {
    // A CSV export written row by row, held after its first rows until the client has them:
    // were the compressor to buffer, the client would never see them and the gate never open.
    let openGate!: () => void;
    const app = new Hono();
    app.use(compression());
    app.get('/export.csv', (c) => {
      const gate = new Promise<void>((resolve) => (openGate = resolve));
      c.header('content-type', 'text/csv; charset=utf-8');
      return stream(c, async (s) => {
        await s.write('id,title\n');
        for (let i = 1; i <= 40; i++) await s.write(`${i},row number ${i} of the first batch\n`);
        await gate;
        for (let i = 41; i <= 80; i++) await s.write(`${i},row number ${i} of the second batch\n`);
      });
    });
    const server = listen(app.fetch, { port: 0, hostname: '127.0.0.1' }, () => {});
    await once(server, 'listening');
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const coding of ['gzip', 'br'] as const) {
        const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
          http
            .get(`${base}/export.csv`, { headers: { 'accept-encoding': coding }, agent: false }, resolve)
            .on('error', reject),
        );
        expect(res.headers['content-encoding']).toBe(coding);
        expect(res.headers['content-length']).toBeUndefined();
        const decoded = res.pipe(coding === 'br' ? createBrotliDecompress() : createGunzip());
        let text = '';
        await new Promise<void>((resolve) => {
          decoded.on('data', (d: Buffer) => {
            text += d.toString();
            if (text.includes('40,row number 40 of the first batch\n')) resolve();
          });
        });
        expect(text).not.toContain('second batch');
        openGate();
        await once(decoded, 'end');
        expect(text.trim().split('\n')).toHaveLength(81);
      }
    } finally {
      server.close();
    }
  });
});

describe('13. assets', () => {
  let url: string;
  beforeAll(async () => {
    url = /href="(\/assets\/portal\.[0-9a-f]+\.css)"/.exec(
      (await raw(inst.base, '/login')).body.toString(),
    )![1]!;
  });

  it('carry an ETag and Last-Modified, and a revalidation gets 304 without a body', async () => {
    const first = await raw(inst.base, url, { headers: { 'accept-encoding': 'br' } });
    expect(first.status).toBe(200);
    const etag = first.headers.etag!;
    expect(etag).toMatch(/^"[0-9a-f]+(-br)?"$/);
    expect(new Date(first.headers['last-modified']!).getTime()).toBeLessThanOrEqual(Date.now());
    for (const headers of [
      { 'if-none-match': etag, 'accept-encoding': 'br' } as Record<string, string>,
      { 'if-none-match': `W/${etag}`, 'accept-encoding': 'br' },
      { 'if-modified-since': first.headers['last-modified']! },
    ]) {
      const again = await raw(inst.base, url, { headers });
      expect(again.status).toBe(304);
      expect(again.body.length).toBe(0);
      expect(again.headers['content-type']).toBeUndefined();
      expect(again.headers.etag).toBeDefined();
      expect(again.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    }
    // A validator of something else: the full answer.
    expect((await raw(inst.base, url, { headers: { 'if-none-match': '"0000"' } })).status).toBe(200);
  });

  it('answer HEAD with the Content-Length of the GET', async () => {
    for (const coding of ['identity', 'br']) {
      const get = await raw(inst.base, url, { headers: { 'accept-encoding': coding } });
      const head = await raw(inst.base, url, { method: 'HEAD', headers: { 'accept-encoding': coding } });
      expect(head.status).toBe(200);
      expect(head.body.length).toBe(0);
      expect(head.headers['content-length']).toBe(String(get.body.length));
      expect(head.headers.etag).toBe(get.headers.etag);
    }
  });

  it('a missing asset gets the portal 404: JSON for a script, the HTML page for a browser', async () => {
    const script = await raw(inst.base, '/assets/nope.0123456789ab.js', { headers: { accept: '*/*' } });
    expect(script.status).toBe(404);
    expect(script.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(script.body.toString()).error.code).toBe('not_found');
    const browser = await raw(inst.base, '/assets/nope.0123456789ab.js', {
      headers: { accept: 'text/html' },
    });
    expect(browser.status).toBe(404);
    expect(browser.headers['content-type']).toMatch(/^text\/html/);
  });

  it('Chart.js is loaded by the dashboard only', async () => {
    const dashboard = decode(await raw(inst.base, '/dashboard', { headers: page() })).toString();
    expect(dashboard).toMatch(/\/assets\/chart\.[0-9a-f]+\.js/);
    for (const path of PAGES.filter((p) => p !== '/dashboard')) {
      const html = decode(await raw(inst.base, path, { headers: page() })).toString();
      expect(html, path).not.toMatch(/\/assets\/chart\./);
    }
    expect((await raw(inst.base, '/login')).body.toString()).not.toMatch(/\/assets\/chart\./);
  });

  it("serves Alpine's CSP build fingerprinted, imported by the components module under its URL", async () => {
    const html = decode(await raw(inst.base, '/tasks', { headers: page() })).toString();
    const components = /<script type="module" src="(\/assets\/alpine-components\.[0-9a-f]{12}\.js)"/.exec(
      html,
    );
    expect(components, 'the components module on a live page').not.toBeNull();
    const source = decode(await raw(inst.base, components![1]!)).toString();
    const wrapper = /from '(\/assets\/alpine\.[0-9a-f]{12}\.js)'/.exec(source);
    expect(wrapper, 'the import rewritten to the fingerprinted URL').not.toBeNull();
    // public/js/alpine.js: the globals module first, then Alpine itself.
    const wrapperSource = decode(await raw(inst.base, wrapper![1]!)).toString();
    expect(wrapperSource).toMatch(/import '\/assets\/alpine-globals\.[0-9a-f]{12}\.js'/);
    const alpine = /from '(\/assets\/alpine-csp\.[0-9a-f]{12}\.js)'/.exec(wrapperSource);
    expect(alpine, 'Alpine under its fingerprinted URL').not.toBeNull();
    const res = await raw(inst.base, alpine![1]!);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const body = decode(res).toString();
    expect(body).toContain('export{');
    // The CSP build never compiles code from strings (the CSP forbids it: no 'unsafe-eval').
    expect(body).not.toMatch(/new Function\(|\beval\(/);
    expect((await raw(inst.base, '/login')).body.toString()).not.toMatch(/\/assets\/alpine/);
  });
});

describe('14. methods and unknown pages', () => {
  const allowOf = (r: Raw) =>
    String(r.headers.allow ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean)
      .sort();

  it('answers a wrong method on an existing path with 405, Allow and method_not_allowed', async () => {
    const cases: [string, string, string[]][] = [
      ['PUT', '/api/users/2', ['DELETE', 'GET', 'HEAD', 'PATCH']],
      ['GET', '/api/auth/login', ['POST']],
      ['DELETE', '/api/users', ['GET', 'HEAD', 'POST']],
      ['POST', '/dashboard', ['GET', 'HEAD']],
    ];
    for (const [method, path, allow] of cases) {
      // Signed in or not: which methods a path takes is no secret.
      for (const headers of [bearer(), {}]) {
        const r = await raw(inst.base, path, { method, headers });
        expect(r.status, `${method} ${path}`).toBe(405);
        expect(allowOf(r)).toEqual(allow);
        expect(r.headers['content-type']).toMatch(/^application\/json/);
        expect(JSON.parse(r.body.toString()).error.code).toBe('method_not_allowed');
      }
    }
  });

  it('derives Allow from the routes: it lists every method the OpenAPI document gives a path', async () => {
    const doc = JSON.parse((await raw(inst.base, '/api/openapi.json')).body.toString());
    for (const [template, item] of Object.entries(doc.paths as Record<string, object>)) {
      const path = template.replace(/\{[^}]+\}/g, '1');
      const documented = Object.keys(item).map((m) => m.toUpperCase());
      const wrong = ['PUT', 'PATCH', 'DELETE', 'POST'].find((m) => !documented.includes(m))!;
      const r = await raw(inst.base, path, { method: wrong, headers: bearer() });
      expect(r.status, `${wrong} ${path}`).toBe(405);
      for (const m of documented) expect(allowOf(r), path).toContain(m);
    }
  });

  it('answers an unknown page asked for as HTML with the HTML 404 page and a way back', async () => {
    const anon = await raw(inst.base, '/no/such/page', {
      headers: { accept: 'text/html,application/xhtml+xml' },
    });
    expect(anon.status).toBe(404);
    expect(anon.headers['content-type']).toMatch(/^text\/html/);
    expect(anon.body.toString()).toContain('href="/login"');
    const signedIn = await raw(inst.base, '/no/such/page', { headers: page() });
    expect(decode(signedIn).toString()).toContain('href="/dashboard"');
    // The API and clients that do not ask for HTML keep the JSON error body.
    for (const [path, accept] of [
      ['/api/nothing', 'text/html'],
      ['/no/such/page', 'application/json'],
    ] as const) {
      const r = await raw(inst.base, path, { headers: { ...bearer(), accept } });
      expect(r.status).toBe(404);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(r.body.toString()).error.code).toBe('not_found');
    }
  });

  it('sends no Content-Type on a 204 or a 303', async () => {
    const other = await raw(inst.base, '/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    const logout = await raw(inst.base, '/api/auth/logout', {
      method: 'POST',
      headers: { authorization: `Bearer ${JSON.parse(other.body.toString()).token}` },
    });
    expect(logout.status).toBe(204);
    expect(logout.headers['content-type']).toBeUndefined();
    const form = await raw(inst.base, '/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: inst.base },
      body: new URLSearchParams({
        username: ADMIN.username,
        password: ADMIN.password,
        next: '/tasks',
      }).toString(),
    });
    expect(form.status).toBe(303);
    expect(form.headers.location).toBe('/tasks');
    expect(form.headers['content-type']).toBeUndefined();
  });
});

describe('15. caching and security headers', () => {
  it('sends Cache-Control: no-store on every signed-in answer and every /api answer', async () => {
    const answers = [
      ...(await Promise.all(PAGES.map((p) => raw(inst.base, p, { headers: page() })))),
      await raw(inst.base, '/no/such/page', { headers: page() }),
      await raw(inst.base, '/api/me', { headers: bearer() }),
      await raw(inst.base, '/api/users/999999', { headers: bearer() }),
      await raw(inst.base, '/api/me'), // 401
      await raw(inst.base, '/api/openapi.json'),
      await raw(inst.base, '/api/docs'),
      await raw(inst.base, '/api/users', { method: 'PUT', headers: bearer() }), // 405
    ];
    for (const r of answers) expect(r.headers['cache-control']).toBe('no-store');
  });

  it('keeps the year-long cache of the fingerprinted assets, signed in or not', async () => {
    const url = /href="(\/assets\/portal\.[0-9a-f]+\.css)"/.exec(
      (await raw(inst.base, '/login')).body.toString(),
    )![1]!;
    for (const headers of [page(), {}]) {
      expect((await raw(inst.base, url, { headers })).headers['cache-control']).toBe(
        'public, max-age=31536000, immutable',
      );
    }
  });

  it('sends HSTS only on answers that went out over HTTPS', async () => {
    expect((await raw(inst.base, '/login')).headers['strict-transport-security']).toBeUndefined();
    // Behind the TLS-terminating proxy (TRUST_PROXY=1 here): the proxy says it was HTTPS.
    const https = await raw(inst.base, '/login', { headers: { 'x-forwarded-proto': 'https' } });
    expect(https.headers['strict-transport-security']).toMatch(/^max-age=\d{7,}/);
    const plain = await raw(inst.base, '/login', { headers: { 'x-forwarded-proto': 'http' } });
    expect(plain.headers['strict-transport-security']).toBeUndefined();
  });

  it('forbids framing consistently and turns off powerful browser features', async () => {
    const r = await raw(inst.base, '/login');
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    const policy = String(r.headers['permissions-policy']);
    for (const feature of ['camera=()', 'microphone=()', 'geolocation=()', 'payment=()', 'usb=()']) {
      expect(policy).toContain(feature);
    }
  });
});

describe('16. a 413 leaves the connection usable (or closes it cleanly)', () => {
  const big = Buffer.alloc(2 * 1024 * 1024, 'a');

  it('a keep-alive client can send its next request after a 413 (known length and chunked)', async ({
    skip,
  }) => {
    skip(
      DEFAULT_RUNTIME === 'deno',
      "Node's HTTP server only: Deno's closes on its own (docs/decisions/0020)",
    );
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (const chunked of [false, true]) {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (!chunked) headers['content-length'] = String(big.length);
        const tooBig = await new Promise<Raw>((resolve, reject) => {
          const req = http.request(
            `${inst.base}/api/auth/login`,
            { method: 'POST', headers, agent },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (d: Buffer) => chunks.push(d));
              res.on('end', () =>
                resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
              );
            },
          );
          req.on('error', reject);
          // Chunked: several chunks, the way a streaming upload comes.
          if (chunked)
            for (let i = 0; i < 8; i++)
              req.write(big.subarray(i * (big.length / 8), (i + 1) * (big.length / 8)));
          req.end(chunked ? undefined : big);
        });
        expect(tooBig.status).toBe(413);
        expect(JSON.parse(tooBig.body.toString()).error.code).toBe('payload_too_large');
        expect(tooBig.headers.connection).toBe('close');
        const next = await raw(inst.base, '/healthz', { agent });
        expect(next.status).toBe(200);
        expect(JSON.parse(next.body.toString())).toEqual({ ok: true });
      }
    } finally {
      agent.destroy();
    }
  });

  it('on a raw socket: the 413 arrives whole, says Connection: close, and the server closes', async ({
    skip,
  }) => {
    skip(
      DEFAULT_RUNTIME === 'deno',
      "Node's HTTP server only: Deno's closes on its own (docs/decisions/0020)",
    );
    const socket = net.connect(inst.port, '127.0.0.1');
    await once(socket, 'connect');
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    socket.on('error', () => {}); // a reset after the answer is the server closing; what matters is the answer
    const closed = once(socket, 'close');
    socket.write(
      `POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${big.length}\r\nConnection: keep-alive\r\n\r\n`,
    );
    socket.write(big);
    await closed;
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received).toMatch(/\r\nconnection: close\r\n/i);
    expect(received).toContain('"payload_too_large"');
  });
});
