// Figure 6: the profiler's RSS over a sped-up long recording of a target with many distinct stacks.
// At `longRunHz` for `longRunSeconds` it takes as many samples as 10 minutes at 100 Hz would.
import { readFileSync } from 'node:fs';
import { startTarget, sleep, rssTreeKb } from '../lib/process.mjs';
import { runProfiler } from '../lib/runner.mjs';
import { modeName } from '../lib/profilers.mjs';

function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export async function measureLongRun(ctx) {
  const { longRunHz, longRunSeconds } = ctx.config;
  const python = ctx.pythons['3.12'];
  const rows = [];
  ctx.log(`long run: ${longRunSeconds} s at ${longRunHz} Hz each`);
  for (const mode of ctx.modes.longRun) {
    const name = modeName(mode.id, mode.blocking);
    const t = startTarget(python.path, 'many_stacks.py');
    await t.ready;
    const series = [];
    let wrapper = 0;
    const started = Date.now();
    const poll = setInterval(() => {
      // rusage.py's child is the profiler; count it and its own children, not the wrapper
      const kb = childPids(wrapper).reduce((s, p) => s + rssTreeKb(p), 0);
      if (kb > 0) series.push({ t: (Date.now() - started) / 1000, rssKb: kb });
    }, 1000);
    try {
      const r = await runProfiler(mode.id, { pid: t.pid, seconds: longRunSeconds, hz: longRunHz, blocking: mode.blocking, threads: 0 }, ctx, {
        onStart: (pid) => (wrapper = pid),
        timeoutMs: (longRunSeconds + 60) * 1000,
      });
      const at = (fraction) => series[Math.min(series.length - 1, Math.floor(series.length * fraction))]?.rssKb ?? NaN;
      const secondHalf = series.slice(Math.floor(series.length / 2));
      const growthKbPerMin = secondHalf.length > 1
        ? ((secondHalf.at(-1).rssKb - secondHalf[0].rssKb) / (secondHalf.at(-1).t - secondHalf[0].t)) * 60
        : NaN;
      rows.push({
        profiler: mode.id,
        mode: name,
        ours: ctx.profilers[mode.id].ours,
        samples: r.ticks,
        rssKbAt10pct: at(0.1),
        rssKbAt50pct: at(0.5),
        rssKbEnd: series.at(-1)?.rssKb ?? NaN,
        maxRssKb: r.maxrss_kb,
        growthKbPerMin,
        series,
      });
      ctx.log(`  ${name}: ${r.ticks} samples, RSS ${at(0.1)} → ${series.at(-1)?.rssKb} KiB, max ${r.maxrss_kb} KiB`);
    } catch (error) {
      ctx.log(`  ${name}: ${error.message.split('\n')[0]}`);
    } finally {
      clearInterval(poll);
      t.kill();
    }
  }
  return { python: python.version, hz: longRunHz, seconds: longRunSeconds, equivalentMinutesAt100Hz: (longRunHz * longRunSeconds) / 100 / 60, rows };
}
