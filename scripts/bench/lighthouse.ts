/**
 * Lighthouse over the sign-in page and a signed-in dashboard (`npm run lighthouse`; not part of
 * `npm test`). Starts the portal embedded (PGlite in memory, demo data), signs in through the API
 * and hands Lighthouse the session cookie, runs the best-practices, accessibility, performance and
 * SEO categories (desktop settings), and writes the scores and every audit below 1 into
 * docs/lighthouse.md.
 *
 * Chromium: CHROME_PATH (default /usr/bin/chromium), run with --headless --no-sandbox --disable-gpu.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { launch } from 'chrome-launcher';
import lighthouse from 'lighthouse';
import desktopConfig from 'lighthouse/core/config/desktop-config.js';
import { startInstance } from '../../test/support/cluster.ts';
import { signIn } from './support.ts';

const ADMIN = { username: 'lighthouse', password: 'a-long-measuring-password' };
const CATEGORIES = ['best-practices', 'accessibility', 'performance', 'seo'] as const;
const OUT = new URL('../../docs/lighthouse.md', import.meta.url);

interface Audit {
  id: string;
  title: string;
  score: number | null;
  scoreDisplayMode: string;
  displayValue?: string;
}

async function main() {
  // Demo data makes the dashboard realistic; seeding it takes a while on a busy machine.
  const server = await startInstance({
    DATABASE_URL: 'memory://',
    PORTAL_DEMO: '1',
    PORTAL_ADMIN_USERNAME: ADMIN.username,
    PORTAL_ADMIN_PASSWORD: ADMIN.password,
  });
  const base = server.base;
  const chrome = await launch({
    chromePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
    chromeFlags: ['--headless', '--no-sandbox', '--disable-gpu'],
  });
  const rows: string[] = [];
  const findings: string[] = [];
  let version = '';
  try {
    const token = await signIn(base, ADMIN.username, ADMIN.password);
    const pages: [label: string, path: string, headers: Record<string, string>][] = [
      ['/login', '/login', {}],
      ['/dashboard (signed in)', '/dashboard', { Cookie: `portal_session=${token}` }],
      // The page with the most client code (live refreshes, the board, in-place saves).
      ['/tasks (signed in)', '/tasks', { Cookie: `portal_session=${token}` }],
    ];
    for (const [label, path, extraHeaders] of pages) {
      const result = await lighthouse(
        `${base}${path}`,
        { port: chrome.port, output: 'json', logLevel: 'error', extraHeaders },
        { ...desktopConfig, settings: { ...desktopConfig.settings, onlyCategories: [...CATEGORIES] } },
      );
      if (!result) throw new Error(`Lighthouse gave no result for ${path}`);
      const { categories, audits, finalDisplayedUrl, lighthouseVersion } = result.lhr;
      version = lighthouseVersion;
      if (new URL(finalDisplayedUrl).pathname !== path)
        throw new Error(`${path} ended at ${finalDisplayedUrl} (not signed in?)`);
      const score = (id: string) => Math.round((categories[id]?.score ?? 0) * 100);
      rows.push(`| ${label} | ${CATEGORIES.map(score).join(' | ')} |`);
      console.log(label, Object.fromEntries(CATEGORIES.map((c) => [c, score(c)])));
      for (const category of CATEGORIES) {
        for (const ref of categories[category]?.auditRefs ?? []) {
          const audit = audits[ref.id] as Audit | undefined;
          if (!audit || audit.score === null || audit.score >= 1) continue;
          if (audit.scoreDisplayMode === 'informative' || audit.scoreDisplayMode === 'notApplicable')
            continue;
          findings.push(
            `- ${label}, ${category}: **${audit.title}** (\`${audit.id}\`, score ${audit.score}${audit.displayValue ? `, ${audit.displayValue}` : ''})`,
          );
          // What the audit found, where it says (a deprecation's message and script, say), so that
          // a finding outside performance can be acted on without re-running Lighthouse by hand.
          if (category !== 'performance') findings.push(...detailsOf(audit).map((d) => `  - ${d}`));
        }
      }
    }
  } finally {
    chrome.kill();
    await server.stop();
  }
  const date = new Date().toISOString().slice(0, 10);
  writeFileSync(
    OUT,
    [
      '# Lighthouse',
      '',
      `Measured ${date} with \`npm run lighthouse\` (scripts/bench/lighthouse.ts): Lighthouse ${version}, desktop`,
      'settings, headless Chromium (`--headless --no-sandbox --disable-gpu`), the portal embedded',
      '(`DATABASE_URL=memory://`, demo data) on this machine; the dashboard signed in as an admin',
      '(session cookie sent by Lighthouse). Performance depends on the machine and its load:',
      `${cpus().length} cores, load average ${loadavg()[0]?.toFixed(1)} when the run ended.`,
      '',
      `| Page | ${CATEGORIES.join(' | ')} |`,
      `| --- | ${CATEGORIES.map(() => '---').join(' | ')} |`,
      ...rows,
      '',
      '## Audits below full marks',
      '',
      ...(findings.length ? findings : ['None.']),
      '',
    ].join('\n'),
  );
  console.log(`written: ${OUT.pathname}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

/** One line per item of an audit's details table: its message or value, and its source script. */
function detailsOf(audit: Audit): string[] {
  const items = (audit as { details?: { items?: Record<string, unknown>[] } }).details?.items ?? [];
  return items.slice(0, 5).map((item) => {
    const text = item.value ?? item.description ?? item.node ?? '';
    const source = (item.source as { url?: string; line?: number } | undefined)?.url;
    return `${typeof text === 'string' ? text : JSON.stringify(text).slice(0, 200)}${source ? ` (${source})` : ''}`;
  });
}
