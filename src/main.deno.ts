import { denoPlatform } from './platform/deno.ts';
import { run } from './start.ts';

/** The process entry on Deno (`deno task start`, deno.json); Node's is ./main.ts. */
run(denoPlatform());
