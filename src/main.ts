import { nodePlatform } from './platform/node.ts';
import { run } from './start.ts';

/** The process entry on Node (`npm start`, the image's `node dist/main.js`); Deno's is ./main.deno.ts. */
run(nodePlatform());
