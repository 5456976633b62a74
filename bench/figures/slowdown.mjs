// Figure 2: wall time of a fixed CPU-bound workload with no profiler vs under each profiler.
import { startTarget, sleep } from '../lib/process.mjs';
import { runProfiler, rotate } from '../lib/runner.mjs';
import { summarize, median } from '../lib/stats.mjs';
import { modeName } from '../lib/profilers.mjs';

export async function measureSlowdown(ctx) {
  const { reps, slowdownHz, workloadIterations, attachWaitMs } = ctx.config;
  const python = ctx.pythons['3.12'];
  const conditions = [{ id: null, hz: 0, blocking: false }];
  for (const hz of slowdownHz) for (const m of ctx.modes.slowdown) conditions.push({ ...m, hz });
  const nameOf = (c) => (c.id ? `${modeName(c.id, c.blocking)} @ ${c.hz} Hz` : 'no profiler');
  const walls = Object.fromEntries(conditions.map((c) => [nameOf(c), []]));
  const cpus = Object.fromEntries(conditions.map((c) => [nameOf(c), []]));
  const adjusted = Object.fromEntries(conditions.map((c) => [nameOf(c), []]));
  // per repetition: this condition's wall over the same repetition's no-profiler wall, so a
  // slower or faster stretch of a shared machine affects both sides of each ratio
  const paired = Object.fromEntries(conditions.map((c) => [nameOf(c), []]));
  // per repetition: the profiled workload over its unprofiled twin running at the same time
  const twinRatios = Object.fromEntries(conditions.map((c) => [nameOf(c), []]));
  // per run: the share of the workload's time it was neither running nor waiting for a CPU
  // (wall − run-queue wait − CPU). The workload never sleeps, so this is the time a blocking
  // profiler held it stopped; a drift of the machine's speed moves wall and CPU together.
  const heldOff = Object.fromEntries(conditions.map((c) => [nameOf(c), []]));
  ctx.log(`slowdown: Python ${python.version}, ${workloadIterations} iterations`);
  for (let rep = 0; rep < reps; rep++) {
    const repWalls = {};
    for (const c of rotate(conditions, rep)) {
      const name = nameOf(c);
      // Two copies of the workload run at the same time, one per core: the profiler attaches to
      // the first only. The speed of a shared machine drifts by ±20 % from one minute to the next;
      // the twin sees the same drift, so first/twin isolates what the profiler does.
      const t = startTarget(python.path, 'workload.py', [workloadIterations], { stdinPipe: true });
      const twin = startTarget(python.path, 'workload.py', [workloadIterations], { stdinPipe: true });
      let profiling;
      try {
        await Promise.all([t.ready, twin.ready]);
        if (c.id) {
          profiling = runProfiler(c.id, { pid: t.pid, seconds: null, hz: c.hz, blocking: c.blocking, threads: 0 }, ctx, {
            timeoutMs: 300_000,
          });
          profiling.catch(() => {});
        }
        // every condition waits alike, so the profilers have attached before the work starts
        await sleep(attachWaitMs);
        t.child.stdin.write('go\n');
        twin.child.stdin.write('go\n');
        await Promise.all([t.exited, twin.exited]);
        const result = (target) => JSON.parse(target.output().trim().split('\n').pop());
        const { wall, cpu, runqueue_wait: wait } = result(t);
        const other = result(twin);
        walls[name].push(wall);
        cpus[name].push(cpu);
        adjusted[name].push(wall - wait);
        repWalls[name] = wall;
        heldOff[name].push(((wall - wait - cpu) / (wall - wait)) * 100);
        // wall − run-queue wait of both: the profiler's own CPU use is the machine's load, not a
        // slowdown of the target; the time a blocking profiler holds the target stopped stays in.
        twinRatios[name].push(((wall - wait) / (other.wall - other.runqueue_wait) - 1) * 100);
        if (profiling) await profiling.catch((e) => ctx.log(`  ${name}: ${e.message.split('\n')[0]}`));
        ctx.log(`  rep ${rep + 1} ${name}: ${wall.toFixed(3)} s wall, ${(wall - wait).toFixed(3)} s without run-queue wait, twin ${(other.wall - other.runqueue_wait).toFixed(3)} s`);
      } catch (error) {
        ctx.log(`  ${name}: ${error.message.split('\n')[0]}`);
      } finally {
        t.kill();
        twin.kill();
      }
    }
    const base = repWalls['no profiler'];
    if (base) for (const [name, wall] of Object.entries(repWalls)) paired[name].push((wall / base - 1) * 100);
  }
  const base = median(walls['no profiler']);
  const baseAdjusted = median(adjusted['no profiler']);
  const rows = conditions.map((c) => {
    const name = nameOf(c);
    return {
      condition: name,
      profiler: c.id,
      mode: c.id ? modeName(c.id, c.blocking) : null,
      blocking: c.blocking,
      hz: c.hz,
      ours: c.id ? ctx.profilers[c.id].ours : false,
      wall: summarize(walls[name]),
      cpu: summarize(cpus[name]),
      // wall time minus the time spent waiting for a CPU (other jobs' noise), see workload.py
      wallLessWait: summarize(adjusted[name]),
      slowdownPctLessWait: summarize(adjusted[name].map((w) => (w / baseAdjusted - 1) * 100)),
      // slowdown in % of the no-profiler median, per repetition
      slowdownPct: summarize(walls[name].map((w) => (w / base - 1) * 100)),
      slowdownPctPaired: summarize(paired[name]),
      // the profiled copy vs its twin, minus the same ratio with no profiler (the two copies'
      // own difference): what the goals use
      slowdownPctTwin: summarize(twinRatios[name].map((r) => r - median(twinRatios['no profiler']))),
      twinRatioPct: summarize(twinRatios[name]),
      heldOffPct: summarize(heldOff[name]),
      // best run vs best baseline run: the least disturbed by other jobs on a shared machine
      slowdownPctOfBest: (Math.min(...walls[name]) / Math.min(...walls['no profiler']) - 1) * 100,
    };
  });
  return { python: python.version, baselineWall: base, baselineWallLessWait: baseAdjusted, rows };
}
