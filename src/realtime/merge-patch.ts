/**
 * RFC 7396 JSON Merge Patch. The implementation is the plain ES module public/js/merge-patch.js,
 * shared as is with the browser (served by the asset pipeline) and the k6 load scripts, so the
 * three can never disagree; its types are in merge-patch.d.ts beside it. From `dist/realtime/`
 * the same relative path reaches it (the image ships public/ beside dist/).
 */
export { apply, diff, type Json } from '../../public/js/merge-patch.js';
