// @ts-check
/**
 * The page's Alpine components (Alpine's CSP build: the markup names properties and methods of
 * these components, and nothing is evaluated with eval; docs/decisions/0021-alpine-csp-build.md).
 * Loaded as a module on every page with live parts; Alpine also starts components that htmx
 * swaps in later.
 */
import Alpine from './alpine.js';

Alpine.start();
