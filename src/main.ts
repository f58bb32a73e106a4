import { nodePlatform } from './platform/node.js';
import { run } from './start.js';

/** The process entry on Node (`npm start`, the image's `node dist/main.js`); Deno's is ./main.deno.ts. */
run(nodePlatform());
