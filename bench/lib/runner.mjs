// One profiler run against a pid, measured from outside (CPU, RSS, wall) with its sample count.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { profilers } from './profilers.mjs';
import { runMeasured } from './process.mjs';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'pyflame-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
let runCounter = 0;

/** Runs profiler `id`; resolves with { cpu, user, sys, wall, maxrss_kb, ticks, stacks(), stderr }. */
export async function runProfiler(id, opts, ctx, { onStart, timeoutMs } = {}) {
  const profiler = profilers[id];
  const full = { ...opts, out: path.join(scratch, `${id}-${++runCounter}.txt`) };
  const { cmd, args } = profiler.command(full);
  const result = await runMeasured(cmd, args, { python: ctx.hostPython, onStart, timeoutMs });
  if (result.status !== 0) {
    const why = result.stderr.trim().split('\n').slice(-2).join(' / ');
    throw new Error(`${id} exited with ${result.status} (${why}): ${cmd} ${args.join(' ')}`);
  }
  let ticks = NaN;
  try {
    ticks = profiler.ticks(result, full);
  } catch (error) {
    ctx.log(`  ${id}: could not count samples (${error.message})`);
  }
  return { ...result, ticks, stacks: () => profiler.stacks(result, full), command: [cmd, ...args].join(' ') };
}

/** Rotates a list by `by` places: repetition r starts with a different profiler, so drift hits all alike. */
export const rotate = (list, by) => list.map((_, i) => list[(i + by) % list.length]);
