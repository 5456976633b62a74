// Figure 3: each profiler's share of samples in alpha/beta/gamma vs the program's own process_time split.
import { startTarget, sleep } from '../lib/process.mjs';
import { runProfiler, rotate } from '../lib/runner.mjs';
import { summarize } from '../lib/stats.mjs';
import { modeName } from '../lib/profilers.mjs';

export const FUNCTIONS = ['alpha', 'beta', 'gamma'];

/** Each profiler's share of samples in alpha/beta/gamma: the innermost of them owns a sample. */
export function sharesFromStacks(stacks) {
  const counts = Object.fromEntries(FUNCTIONS.map((f) => [f, 0]));
  for (const { functions, count } of stacks) {
    // the innermost of the three on the stack owns the sample
    const owner = [...functions].reverse().find((f) => FUNCTIONS.includes(f));
    if (owner) counts[owner] += count;
  }
  const total = FUNCTIONS.reduce((s, f) => s + counts[f], 0);
  return { total, shares: Object.fromEntries(FUNCTIONS.map((f) => [f, total ? (counts[f] / total) * 100 : NaN])) };
}

/** The target's own split (it prints it as JSON on SIGUSR2), in percent. */
export async function readTruth(t) {
  const before = t.output().length;
  t.child.kill('SIGUSR2');
  for (let i = 0; i < 100 && t.output().length === before; i++) await sleep(20);
  const truth = JSON.parse(t.output().slice(before).trim().split('\n')[0]);
  const total = FUNCTIONS.reduce((s, f) => s + truth[f], 0);
  return Object.fromEntries(FUNCTIONS.map((f) => [f, (truth[f] / total) * 100]));
}

export async function measureAccuracy(ctx, pythonKey = '3.12') {
  const { reps, accuracyHz, accuracySeconds } = ctx.config;
  const python = ctx.pythons[pythonKey];
  if (!python) return null;
  const only = (id) => ctx.profilers[id].onlyPython;
  const modes = ctx.modes.accuracy.filter((m) => !only(m.id) || python.version.startsWith(`${only(m.id)}.`));
  ctx.log(`accuracy: Python ${python.version}, ${accuracySeconds} s at ${accuracyHz} Hz`);
  const runs = Object.fromEntries(modes.map((m) => [modeName(m.id, m.blocking), []]));
  for (let rep = 0; rep < reps; rep++) {
    for (const mode of rotate(modes, rep)) {
      const name = modeName(mode.id, mode.blocking);
      const t = startTarget(python.path, 'accuracy.py');
      try {
        await t.ready;
        await sleep(300);
        t.child.kill('SIGUSR1'); // truth starts counting with the profiler
        const r = await runProfiler(mode.id, { pid: t.pid, seconds: accuracySeconds, hz: accuracyHz, blocking: mode.blocking, threads: 0 }, ctx);
        const truth = await readTruth(t);
        const reported = sharesFromStacks(r.stacks());
        const errors = FUNCTIONS.map((f) => Math.abs(reported.shares[f] - truth[f]));
        runs[name].push({ truth, reported: reported.shares, samples: reported.total, maxErrorPp: Math.max(...errors) });
        ctx.log(`  rep ${rep + 1} ${name}: ${FUNCTIONS.map((f) => `${f} ${reported.shares[f].toFixed(1)}/${truth[f].toFixed(1)}`).join(' ')} (${reported.total} samples)`);
      } catch (error) {
        ctx.log(`  ${name}: ${error.message.split('\n')[0]}`);
      } finally {
        t.kill();
      }
    }
  }
  const rows = modes.map((mode) => {
    const name = modeName(mode.id, mode.blocking);
    const list = runs[name];
    return {
      profiler: mode.id,
      mode: name,
      ours: ctx.profilers[mode.id].ours,
      maxErrorPp: summarize(list.map((x) => x.maxErrorPp)),
      samples: summarize(list.map((x) => x.samples)),
      perFunction: Object.fromEntries(
        FUNCTIONS.map((f) => [f, { truth: summarize(list.map((x) => x.truth[f])), reported: summarize(list.map((x) => x.reported[f])) }]),
      ),
      raw: list,
    };
  });
  return { python: python.version, hz: accuracyHz, seconds: accuracySeconds, rows };
}
