/**
 * Alpine as the portal's modules import it: the CSP build (`@alpinejs/csp`, served as
 * /assets/alpine-csp.<hash>.js), loaded only after alpine-globals.js has run. Every module that
 * needs Alpine imports this file, so whichever of them the page loads first, the globals are
 * ready before Alpine reads them. Types: alpine.d.ts.
 */
import './alpine-globals.js';

export { default } from './alpine-csp.js';
