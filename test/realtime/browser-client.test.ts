import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WS from 'ws';
// @ts-expect-error: a plain ES module for browsers, checked with // @ts-check on its own
import { LiveDocument } from '../../public/js/live-document.js';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.ts';
import { api, signIn } from '../support/live-client.ts';

/** The browser module, run in Node against a real instance with a cookie, as a tab would. */
describe('LiveDocument (public/js/live-document.js)', () => {
  let cluster: Cluster;
  let inst: Instance;
  let admin: string;
  beforeAll(async () => {
    cluster = await startCluster(1);
    inst = cluster.instances[0]!;
    admin = await signIn(inst.base, ADMIN.username, ADMIN.password);
  }, 60_000);
  afterAll(() => cluster?.stop());

  /** A browser-like WebSocket that sends the session cookie and this portal's Origin. */
  function browser(cookie: string) {
    (globalThis as any).WebSocket = class extends WS {
      constructor(url: string | URL) {
        super(url, { headers: { cookie, origin: inst.base } });
      }
    };
    const storage = new Map<string, string>();
    return {
      getItem: (k: string) => storage.get(k) ?? null,
      setItem: (k: string, v: string) => void storage.set(k, v),
      removeItem: (k: string) => void storage.delete(k),
    };
  }

  const until = async (predicate: () => boolean, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('goes live, applies deltas, resumes after a drop, and stops when signed out', async () => {
    const user = await api(inst.base, admin, 'POST', '/api/users', {
      username: 'tab',
      password: 'a-long-user-password',
      role: 'user',
    });
    const project = await api(inst.base, admin, 'POST', '/api/projects', { name: 'Tabs' });
    const form = await fetch(`${inst.base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: inst.base, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'tab', password: 'a-long-user-password' }),
    });
    const cookie = /portal_session=[^;]+/.exec(form.headers.get('set-cookie') ?? '')![0];
    const token = cookie.split('=')[1]!;
    const storage = browser(cookie);
    const states: string[] = [];
    const live = new LiveDocument({ url: `${inst.base}/ws`, storage, minBackoffMs: 50 });
    live.addEventListener('state', (e: CustomEvent) => states.push(e.detail));
    live.start();
    await until(() => live.state === 'live');
    expect(storage.getItem('portal.realtime.session')).toMatch(/^[0-9a-f-]{36}$/);
    const sessionId = storage.getItem('portal.realtime.session');

    const changes: unknown[] = [];
    live.addEventListener('change', (e: CustomEvent) => changes.push(e.detail.patch));
    await api(inst.base, admin, 'POST', '/api/tasks', {
      project_id: project.body.id,
      title: 'One',
      assignee_id: user.body.id,
    });
    await until(() => live.doc?.my_tasks?.todo === 1);
    expect(changes.length).toBeGreaterThan(0);

    // The connection drops; a change lands meanwhile; the tab resumes its session and catches up.
    live.socket.terminate();
    await api(inst.base, admin, 'POST', '/api/tasks', {
      project_id: project.body.id,
      title: 'Two',
      assignee_id: user.body.id,
    });
    await until(() => live.doc?.my_tasks?.todo === 2);
    expect(states).toContain('reconnecting');
    expect(live.state).toBe('live');
    expect(storage.getItem('portal.realtime.session')).toBe(sessionId);
    expect(live.doc).toEqual((await api(inst.base, token, 'GET', '/api/metrics')).body);

    await api(inst.base, token, 'POST', '/api/auth/logout');
    await until(() => live.state === 'signed-out');
    live.stop();
  });
});
