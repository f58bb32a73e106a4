/**
 * The open-storm client process: reads a `StormPlan` as JSON from the file named by
 * STORM_PLAN_FILE (or from the STORM_PLAN environment variable), runs it and prints the `StormResult` as one JSON line on stdout.
 */
import { readFileSync } from 'node:fs';
import { runStorm, type StormPlan } from './lib/storm.ts';

const file = process.env.STORM_PLAN_FILE;
const plan = JSON.parse(file ? readFileSync(file, 'utf8') : (process.env.STORM_PLAN ?? '')) as StormPlan;
const result = await runStorm(plan);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
