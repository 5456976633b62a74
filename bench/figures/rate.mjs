// Figure 1b: the highest sampling rate each profiler sustains on a 50-frame stack, and the cores it
// burns doing so (slope between two durations again, so startup does not count).
import { startTarget, sleep } from '../lib/process.mjs';
import { runProfiler, rotate } from '../lib/runner.mjs';
import { summarize } from '../lib/stats.mjs';
import { modeName } from '../lib/profilers.mjs';

export async function measureRate(ctx) {
  const { reps, durations, maxHz, rateTarget } = ctx.config;
  const modes = ctx.modes.rate;
  const python = ctx.pythons[rateTarget.python];
  const t = startTarget(python.path, 'deep_busy.py', [rateTarget.depth]);
  await t.ready;
  await sleep(300);
  ctx.log(`rate: Python ${python.version}, ${rateTarget.depth} frames, asking ${maxHz} Hz`);
  const runs = Object.fromEntries(modes.map((m) => [modeName(m.id, m.blocking), []]));
  try {
    for (let rep = 0; rep < reps; rep++) {
      for (const mode of rotate(modes, rep)) {
        const name = modeName(mode.id, mode.blocking);
        const points = [];
        for (const seconds of durations) {
          try {
            const r = await runProfiler(mode.id, { pid: t.pid, seconds, hz: maxHz, blocking: mode.blocking, threads: 0 }, ctx);
            points.push({ seconds, cpu: r.cpu, ticks: r.ticks });
          } catch (error) {
            ctx.log(`  ${name}: ${error.message.split('\n')[0]}`);
          }
        }
        runs[name].push(points);
        ctx.log(`  rep ${rep + 1} ${name}: ${points.map((p) => `${p.seconds}s ${p.ticks} ticks ${(p.cpu * 1e3).toFixed(0)} ms`).join(', ')}`);
      }
    }
  } finally {
    t.kill();
  }
  const rows = modes.map((mode) => {
    const name = modeName(mode.id, mode.blocking);
    const perRep = runs[name].map((points) => {
      if (points.length < 2) return { hz: NaN, cores: NaN };
      const [a, b] = points;
      return { hz: (b.ticks - a.ticks) / (b.seconds - a.seconds), cores: (b.cpu - a.cpu) / (b.seconds - a.seconds) };
    });
    return {
      profiler: mode.id,
      mode: name,
      ours: ctx.profilers[mode.id].ours,
      achievedHz: summarize(perRep.map((x) => x.hz)),
      cores: summarize(perRep.map((x) => x.cores)),
      raw: runs[name],
    };
  });
  return { python: python.version, depth: rateTarget.depth, askedHz: maxHz, rows };
}
