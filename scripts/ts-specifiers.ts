/**
 * One-off, idempotent rewrite of relative import specifiers from `.js` to the TypeScript file they
 * name (`./app.js` → `./app.ts`, `./view.js` → `./view.tsx`), so that Deno resolves every import as
 * written, with no `--sloppy-imports` (docs/decisions/0020-deno-first-class-runtime.md). A `.js`
 * specifier whose `.js` file exists (public/js/merge-patch.js) is left alone; so is every bare
 * (package) specifier. TypeScript emits `.js` again for the build (`rewriteRelativeImportExtensions`).
 *
 *   npx tsx scripts/ts-specifiers.ts            # rewrite src, test, scripts, db, vitest.config.ts
 *   npx tsx scripts/ts-specifiers.ts --check    # list what would change; exit 1 if anything would
 *   npx tsx scripts/ts-specifiers.ts DIR...     # other roots (a scratch copy, say)
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const DEFAULT_ROOTS = ['src', 'test', 'scripts', 'db', 'vitest.config.ts'];
const SKIP = new Set(['node_modules', 'dist', 'data', 'migrations', '.git']);

/** `from '…'`, `import '…'`, `import('…')`, `export … from '…'`, `vi.mock('…')`, `typeof import('…')`. */
const SPECIFIER =
  /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\bvi\.mock\(\s*|\bvi\.importActual(?:<[^>]*>)?\(\s*)(['"])(\.{1,2}\/[^'"\n]+?)\.js\2/g;

function* sourceFiles(path: string): Generator<string> {
  const stat = statSync(path);
  if (stat.isFile()) {
    if (/\.(m|c)?tsx?$/.test(path) && !path.endsWith('.d.ts')) yield path;
    return;
  }
  for (const entry of readdirSync(path)) {
    if (SKIP.has(entry)) continue;
    yield* sourceFiles(join(path, entry));
  }
}

/** The file's text with its specifiers rewritten, and how many were. */
export function rewrite(file: string, text: string): { text: string; changed: number } {
  let changed = 0;
  const out = text.replace(SPECIFIER, (whole, lead: string, quote: string, stem: string) => {
    const base = resolve(dirname(file), stem);
    if (existsSync(`${base}.js`)) return whole; // a real JavaScript file
    for (const ext of ['.ts', '.tsx', '.mts']) {
      if (existsSync(`${base}${ext}`)) {
        changed++;
        return `${lead}${quote}${stem}${ext}${quote}`;
      }
    }
    return whole; // nothing there: left for the type checker to report
  });
  return { text: out, changed };
}

function main(args: string[]) {
  const check = args.includes('--check');
  const roots = args.filter((a) => a !== '--check');
  let files = 0;
  let total = 0;
  for (const root of roots.length > 0 ? roots : DEFAULT_ROOTS) {
    if (!existsSync(root)) continue;
    for (const file of sourceFiles(root)) {
      const before = readFileSync(file, 'utf8');
      const { text, changed } = rewrite(file, before);
      if (changed === 0) continue;
      files++;
      total += changed;
      if (check) console.log(`${file}: ${changed}`);
      else writeFileSync(file, text);
    }
  }
  console.log(`${check ? 'would rewrite' : 'rewrote'} ${total} specifiers in ${files} files`);
  if (check && total > 0) process.exit(1);
}

main(process.argv.slice(2));
