import { fileURLToPath } from 'node:url';
import { type ConfigData, FileSystemConfigLoader, HtmlValidate, type Message } from 'html-validate';

/** The repository root, where `.htmlvalidate.json` (the one configuration) lives. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const validator = new HtmlValidate(new FileSystemConfigLoader());

/**
 * What is being validated, and what of the configuration changes for it:
 * - `served`: a whole page as the server sent it — the configuration as is.
 * - `fragment`: an htmx answer (a dialog's form, a list) — not a document: no doctype, and its
 *   headings continue those of the page it is swapped into (an <h2> under the page's <h1>).
 * - `dom`: the live document after its scripts ran, as the browser serialises it — the browser
 *   writes boolean attributes, void elements and empty attributes its own way, and scripts may
 *   set styles through the CSSOM (Chart.js sizes its canvas so), which the CSP allows; the markup
 *   the server sends is held to those rules in `served`.
 */
export type HtmlKind = 'served' | 'fragment' | 'dom';

const OVERRIDES: Record<HtmlKind, ConfigData> = {
  served: {},
  fragment: { rules: { 'missing-doctype': 'off', 'heading-level': 'off' } },
  dom: {
    extends: ['html-validate:recommended', 'html-validate:document', 'html-validate:browser'],
    rules: {
      'missing-doctype': 'error',
      'require-sri': ['error', { target: 'crossorigin' }],
      'doctype-style': 'off',
    },
  },
};

const describe = (m: Message) =>
  `${m.line}:${m.column} ${m.ruleId}: ${m.message}${m.selector ? ` (${m.selector})` : ''}`;

/** Validates HTML with the repository's html-validate configuration; answers the errors, one line each. */
export async function validateHtml(html: string, kind: HtmlKind = 'served'): Promise<string[]> {
  const report = await validator.validateString(html, `${ROOT}${kind}.html`, OVERRIDES[kind]);
  return report.results.flatMap((r) => r.messages.filter((m) => m.severity === 2).map(describe));
}
