// Figure 1: sampler CPU per sample (user+sys of the profiler), startup removed by the slope between a
// short and a long recording of the same target.
import { startTarget, sleep } from '../lib/process.mjs';
import { runProfiler, rotate } from '../lib/runner.mjs';
import { summarize } from '../lib/stats.mjs';
import { modeName } from '../lib/profilers.mjs';

export async function measureCost(ctx) {
  const { reps, durations, costHz, costTargets } = ctx.config;
  const rows = [];
  for (const target of costTargets) {
    const python = ctx.pythons[target.python];
    if (!python) continue;
    const t = startTarget(python.path, 'deep_busy.py', [target.depth, target.threads ?? 0]);
    // the timer baseline does not depend on the target: measured once, beside the first one
    const modes = ctx.modes.cost.filter(
      (m) => (!ctx.profilers[m.id].baseline || target === costTargets[0]) && (!ctx.profilers[m.id].onlyPython || python.version.startsWith(`${ctx.profilers[m.id].onlyPython}.`)),
    );
    await t.ready;
    await sleep(300);
    const threads = target.threads ? target.threads + 1 : 0; // + the waiting main thread
    ctx.log(`cost: Python ${python.version}, ${target.label}`);
    const runs = Object.fromEntries(modes.map((m) => [modeName(m.id, m.blocking), []]));
    try {
      for (let rep = 0; rep < reps; rep++) {
        for (const mode of rotate(modes, rep)) {
          const name = modeName(mode.id, mode.blocking);
          const points = [];
          for (const seconds of rep % 2 ? [...durations].reverse() : durations) {
            try {
              const r = await runProfiler(mode.id, { pid: t.pid, seconds, hz: costHz, blocking: mode.blocking, threads }, ctx);
              points.push({ seconds, cpu: r.cpu, ticks: r.ticks, wall: r.wall });
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
    for (const mode of modes) {
      const name = modeName(mode.id, mode.blocking);
      const perRep = runs[name].map((points) => {
        if (points.length < 2) return { slopeUs: NaN, totalUs: NaN, rate: NaN };
        const [a, b] = [...points].sort((x, y) => x.seconds - y.seconds);
        const last = b;
        return {
          // CPU of the extra samples of the long run over the short run: startup cancels out
          slopeUs: ((b.cpu - a.cpu) / (b.ticks - a.ticks)) * 1e6,
          totalUs: (last.cpu / last.ticks) * 1e6,
          rate: (b.ticks - a.ticks) / (b.seconds - a.seconds),
        };
      });
      if (!runs[name]) continue;
      rows.push({
        python: python.version,
        target: target.label,
        depth: target.depth,
        threads: target.threads ?? 0,
        profiler: mode.id,
        mode: name,
        ours: ctx.profilers[mode.id].ours,
        baseline: ctx.profilers[mode.id].baseline ?? false,
        usPerSample: summarize(perRep.map((x) => x.slopeUs)),
        usPerSampleWithStartup: summarize(perRep.map((x) => x.totalUs)),
        achievedHz: summarize(perRep.map((x) => x.rate)),
        raw: runs[name],
      });
    }
  }
  return { hz: costHz, durations, rows };
}
