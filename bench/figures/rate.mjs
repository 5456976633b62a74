// Figure 1b: the highest sampling rate each profiler sustains on a 50-frame stack, and the cores it
// burns doing so (slope between two durations again, so startup does not count).
import { startTarget, sleep } from '../lib/process.mjs';
import { runProfiler, rotate } from '../lib/runner.mjs';
import { summarize } from '../lib/stats.mjs';
import { modeName } from '../lib/profilers.mjs';

export async function measureRate(ctx, rateTarget = ctx.config.rateTarget) {
  const { reps, rateDurations: durations, maxHz } = ctx.config;
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
            const hz = Math.min(maxHz, ctx.config.maxHzPerProfiler[mode.id] ?? Infinity);
            const r = await runProfiler(mode.id, { pid: t.pid, seconds, hz, blocking: mode.blocking, threads: 0 }, ctx);
            points.push({ seconds, hz, wall: r.wall, cpu: r.cpu, ticks: r.ticks });
          } catch (error) {
            ctx.log(`  ${name}: ${error.message.split('\n')[0]}`);
          }
        }
        runs[name].push(points);
        ctx.log(`  rep ${rep + 1} ${name}: ${points.map((p) => `${p.seconds}s at ${p.hz} Hz: ${p.ticks} ticks in ${p.wall.toFixed(2)} s, ${(p.cpu * 1e3).toFixed(0)} ms CPU`).join('; ')}`);
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
      // py-spy stops after duration × rate samples, not after the duration: its two runs differ by
      // their wall time. The others sample for exactly the duration asked (start-up comes before).
      if (ctx.profilers[mode.id].stopsBySampleCount) {
        return { hz: (b.ticks - a.ticks) / (b.wall - a.wall), cores: (b.cpu - a.cpu) / (b.wall - a.wall) };
      }
      return { hz: b.ticks / b.seconds, cores: (b.cpu - a.cpu) / (b.seconds - a.seconds) };
    });
    return {
      profiler: mode.id,
      mode: name,
      ours: ctx.profilers[mode.id].ours,
      achievedHz: summarize(perRep.map((x) => x.hz)),
      cores: summarize(perRep.map((x) => x.cores)),
      // CPU per sample when sampling back to back: no sleep, so no timer wake-up in it
      usPerSample: summarize(perRep.map((x) => (x.cores / x.hz) * 1e6)),
      raw: runs[name],
    };
  });
  return { python: python.version, depth: rateTarget.depth, askedHz: maxHz, askedHzPerProfiler: ctx.config.maxHzPerProfiler, rows };
}
