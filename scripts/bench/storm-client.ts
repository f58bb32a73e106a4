/**
 * The open-storm client process: reads a `StormPlan` as JSON from the STORM_PLAN environment
 * variable, runs it and prints the `StormResult` as one JSON line on stdout.
 */
import { runStorm, type StormPlan } from './lib/storm.ts';

const plan = JSON.parse(process.env.STORM_PLAN ?? '') as StormPlan;
const result = await runStorm(plan);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
