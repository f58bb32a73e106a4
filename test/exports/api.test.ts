import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { exportProbe } from '../../src/exports/api.ts';
import { csvCell } from '../../src/exports/csv.ts';
import { useApi } from '../support/api-harness.ts';
import { ORIGIN } from '../support/client.ts';
import { expectErrorBody } from '../support/errors.ts';

/** A minimal RFC 4180 reader for the assertions: quoted cells, doubled quotes, CRLF rows. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  expect(cell, 'the file ends with CRLF').toBe('');
  return rows;
}

const TASK_HEADER =
  'id,project_id,title,status,priority,assignee_id,due_date,created_at,updated_at,completed_at';

describe('csvCell', () => {
  it('quotes per RFC 4180 and makes formula cells inert', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(null)).toBe('');
    expect(csvCell(42)).toBe('42');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\r\nlines')).toBe('"two\r\nlines"');
    for (const lead of ['=', '+', '-', '@', '\t', '\r'])
      expect(csvCell(`${lead}1+1`).replace(/^"/, '')[0]).toBe("'");
    expect(csvCell('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvCell({ a: 1 })).toBe('"{""a"":1}"');
  });
});

describe.each(['pg', 'pglite'] as const)('CSV exports on %s', (driver) => {
  // One app, its organisation and the OpenAPI response check (test/support/api-harness.ts).
  const h = useApi(driver, { minValidated: 9, app: {} });

  it('GET /api/tasks/export.csv: every matching row in scope, header of API names, quoting, inert formulas', async () => {
    const tricky = ['=cmd|" /C calc"!A0', 'comma, "quote"', 'line\nbreak', 'Ünïcödé ✓', '-2+3', '@SUM(A1)'];
    for (const title of tricky) {
      const res = await h.w.managerA.api.post('/api/tasks', {
        project_id: h.w.projectA.id,
        title,
        status: 'blocked',
      });
      expect(res.status).toBe(201);
    }
    const res = await h.w.managerA.api.get('/api/tasks/export.csv?status=blocked');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="tasks-[\d-]+\.csv"$/);
    expect(res.text.startsWith(`${TASK_HEADER}\r\n`)).toBe(true);
    const [header, ...rows] = parseCsv(res.text);
    expect(header!.join(',')).toBe(TASK_HEADER);
    const titles = rows.map((r) => r[2]);
    expect(titles).toEqual(tricky.map((t) => (/^[=+\-@]/.test(t) ? `'${t}` : t)));
    // The same rows as the JSON list with the same filter.
    const list = await h.w.managerA.api.get('/api/tasks?status=blocked&limit=200');
    expect(rows.map((r) => Number(r[0])).sort()).toEqual(
      list.body.items.map((t: { id: number }) => t.id).sort(),
    );
    expect(rows[0]![7]).toMatch(/^\d{4}-\d\d-\d\dT/);
    // Scope: a user sees their own tasks only; another manager none of these.
    const mine = parseCsv((await h.w.userA.api.get('/api/tasks/export.csv')).text);
    expect(mine.slice(1).map((r) => Number(r[0]))).toEqual([h.w.taskA.id]);
    expect(parseCsv((await h.w.managerB.api.get('/api/tasks/export.csv?status=blocked')).text)).toHaveLength(
      1,
    );
    // Bad filters are 422 like the list; no sign-in 401; not parsed as a task id.
    expectErrorBody(await h.w.managerA.api.get('/api/tasks/export.csv?status=nope'), 422);
    expectErrorBody(await h.w.anon.get('/api/tasks/export.csv'), 401);
  });

  it('GET /api/audit/export.csv: admins only (403 otherwise, as /api/audit), with the audit filters', async () => {
    const res = await h.w.admin.api.get(`/api/audit/export.csv?entity=tasks&row_id=${h.w.taskA.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-[\d-]+\.csv"$/);
    const [header, ...rows] = parseCsv(res.text);
    expect(header).toEqual([
      'id',
      'at',
      'entity',
      'op',
      'row_id',
      'actor_id',
      'actor_username',
      'before',
      'after',
      'affected_user_ids',
    ]);
    const list = await h.w.admin.api.get(`/api/audit?entity=tasks&row_id=${h.w.taskA.id}&limit=200`);
    expect(rows.map((r) => Number(r[0]))).toEqual(list.body.items.map((e: { id: number }) => e.id));
    expect(JSON.parse(rows[0]![8]!)).toEqual(list.body.items[0].after);
    for (const who of [h.w.managerA, h.w.userA])
      expectErrorBody(await who.api.get('/api/audit/export.csv'), 403);
  });

  it('streams in batches past any row cap, and stops reading when the client goes away', async () => {
    if (driver === 'pglite') return; // the volume part runs on real PostgreSQL only
    await h.ctx.database.db.execute(
      sql`insert into tasks (project_id, title) select ${h.w.projectB.id}, 'bulk ' || g from generate_series(1, 9000) g`,
    );
    let batches = 0;
    exportProbe.onBatch = () => {
      batches++;
    };
    try {
      const whole = await h.w.managerB.api.get(`/api/tasks/export.csv?project_id=${h.w.projectB.id}`);
      expect(parseCsv(whole.text)).toHaveLength(1 + 9001);
      expect(batches).toBe(5); // 2000 a batch: 4 full, 1 short
      batches = 0;
      const res = await h.ctx.app.request(`${ORIGIN}/api/tasks/export.csv?project_id=${h.w.projectB.id}`, {
        headers: { host: 'portal.test', authorization: `Bearer ${h.w.managerB.token}` },
      });
      const reader = res.body!.getReader();
      const first = await reader.read(); // the header row
      expect(new TextDecoder().decode(first.value)).toBe(`${TASK_HEADER}\r\n`);
      await reader.read(); // one batch
      await reader.cancel();
      const seen = batches;
      expect(seen).toBeLessThanOrEqual(2);
      // Whatever else happens afterwards, no further batch is read for the cancelled export.
      await h.w.managerB.api.get('/api/me');
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      expect(batches).toBe(seen);
    } finally {
      exportProbe.onBatch = undefined;
    }
  });
});
