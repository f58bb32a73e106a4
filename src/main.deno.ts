import { denoPlatform } from './platform/deno.js';
import { run } from './start.js';

/** The process entry on Deno (`deno task start`, deno.json); Node's is ./main.ts. */
run(denoPlatform());
