// @ts-check
/**
 * Runs before Alpine's CSP build loads (public/js/alpine.js imports it first). That build reads
 * every property of `window` once, to refuse globals in expressions; reading `window.fence` makes
 * Chromium report a deprecated API ("FencedFrame"), which Lighthouse marks down (best practices
 * 81 on /dashboard). Alpine itself skips `styleMedia` and `sharedStorage` for the same reason but
 * not this one. The portal never uses fenced frames, so the property goes before Alpine looks.
 */
delete (/** @type {{ fence?: unknown }} */ (globalThis).fence);
