// Figure 3b: accuracy on a periodic and an aperiodic program at 100 Hz and 1 kHz, every
// profiler in the same run. The periodic target is a loop locked to the monotonic clock with a
// 10 ms period (alpha 6 ms, beta 3, gamma 1): a sampler with a fixed period of 10 or 1 ms
// always lands on the same phase of it. The aperiodic one is accuracy.py (figure 3). Truth:
// each program's own split (wall time for the loop, process_time for accuracy.py).
import { startTarget, sleep } from '../lib/process.mjs';
import { runProfiler, rotate } from '../lib/runner.mjs';
import { summarize } from '../lib/stats.mjs';
import { modeName } from '../lib/profilers.mjs';
import { FUNCTIONS, readTruth, sharesFromStacks as shares } from './accuracy.mjs';

// The busy clock-locked loop stays periodic only on a quiet machine: when it is taken off the
// CPU it falls behind its clock and skips periods. The sleeping one (one thread that sleeps
// until each part of the period ends, sampled in every profiler's all-threads view) keeps its
// period under load.
export const ALIASING_TARGETS = [
  { key: 'periodic', label: 'periodic: busy 10 ms loop on the clock, 6/3/1 ms', script: 'periodic_loop.py', args: ['10', '0.6,0.3,0.1', 'clock'] },
  { key: 'sleeping', label: 'periodic: sleeping 10 ms loop on the clock, 6/3/1 ms (all threads)', script: 'periodic_loop.py', args: ['10', '0.6,0.3,0.1', 'sleep', '1'], threads: 2 },
  { key: 'aperiodic', label: 'aperiodic: accuracy.py', script: 'accuracy.py', args: [] },
];

export async function measureAliasing(ctx) {
  const { reps, aliasingHz, aliasingSeconds } = ctx.config;
  const modes = ctx.modes.aliasing;
  const python = ctx.pythons['3.12'];
  const rows = [];
  const only = ctx.config.aliasingTargets;
  for (const target of ALIASING_TARGETS.filter((t) => !only || only.includes(t.key))) {
    for (const hz of aliasingHz) {
      const seconds = aliasingSeconds[hz];
      ctx.log(`aliasing: ${target.label}, Python ${python.version}, ${seconds} s at ${hz} Hz`);
      const runs = Object.fromEntries(modes.map((m) => [modeName(m.id, m.blocking), []]));
      for (let rep = 0; rep < reps; rep++) {
        for (const mode of rotate(modes, rep)) {
          const name = modeName(mode.id, mode.blocking);
          const t = startTarget(python.path, target.script, target.args);
          try {
            await t.ready;
            await sleep(300);
            t.child.kill('SIGUSR1');
            const r = await runProfiler(mode.id, { pid: t.pid, seconds, hz, blocking: mode.blocking, threads: target.threads ?? 0 }, ctx);
            const truth = await readTruth(t);
            const reported = shares(r.stacks());
            const errors = FUNCTIONS.map((f) => Math.abs(reported.shares[f] - truth[f]));
            // the binomial standard error of the largest share at this many samples
            const p = Math.max(...FUNCTIONS.map((f) => truth[f])) / 100;
            runs[name].push({ truth, reported: reported.shares, samples: reported.total, maxErrorPp: Math.max(...errors), sePp: 100 * Math.sqrt((p * (1 - p)) / reported.total) });
            ctx.log(`  rep ${rep + 1} ${name}: ${FUNCTIONS.map((f) => `${f} ${reported.shares[f].toFixed(1)}/${truth[f].toFixed(1)}`).join(' ')} (${reported.total} samples)`);
          } catch (error) {
            ctx.log(`  ${name}: ${error.message.split('\n')[0]}`);
          } finally {
            t.kill();
          }
        }
      }
      for (const mode of modes) {
        const name = modeName(mode.id, mode.blocking);
        const list = runs[name];
        rows.push({
          target: target.key,
          targetLabel: target.label,
          hz,
          seconds,
          profiler: mode.id,
          mode: name,
          ours: ctx.profilers[mode.id].ours,
          maxErrorPp: summarize(list.map((x) => x.maxErrorPp)),
          sePp: summarize(list.map((x) => x.sePp)),
          samples: summarize(list.map((x) => x.samples)),
          perFunction: Object.fromEntries(FUNCTIONS.map((f) => [f, { truth: summarize(list.map((x) => x.truth[f])), reported: summarize(list.map((x) => x.reported[f])) }])),
          raw: list,
        });
      }
    }
  }
  return { python: python.version, rows };
}
