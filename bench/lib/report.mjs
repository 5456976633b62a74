// Markdown tables (median, min–max, ratio to the best peer) and the goal verdicts from a results object.

const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const big = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const spread = (s, d = 1) => (s && s.n ? `${f(s.median, d)} (${f(s.min, d)}–${f(s.max, d)})` : '—');
const spreadBig = (s) => (s && s.n ? `${big(s.median)} (${big(s.min)}–${big(s.max)})` : '—');
/** "0.05× (20× less)" for lower-is-better ratios */
function ratioLower(ours, best) {
  if (!Number.isFinite(ours) || !Number.isFinite(best) || best <= 0) return '—';
  const r = ours / best;
  return r < 1 ? `${r.toFixed(3)}× (${(1 / r).toFixed(1)}× less)` : `${r.toFixed(2)}× (more)`;
}
function ratioHigher(ours, best) {
  if (!Number.isFinite(ours) || !Number.isFinite(best) || best <= 0) return '—';
  return `${(ours / best).toFixed(2)}×`;
}
const table = (head, rows) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

const bestPeer = (rows, value) =>
  rows.filter((r) => !r.ours && !r.baseline && Number.isFinite(value(r))).reduce((best, r) => (!best || value(r) < value(best) ? r : best), null);
const bestPeerHigh = (rows, value) =>
  rows.filter((r) => !r.ours && !r.baseline && Number.isFinite(value(r))).reduce((best, r) => (!best || value(r) > value(best) ? r : best), null);

export function costTable(cost) {
  const modes = [...new Set(cost.rows.map((r) => r.mode))];
  const targets = [...new Set(cost.rows.map((r) => `${r.python}|${r.target}`))];
  const rows = targets.map((key) => {
    const [python, target] = key.split('|');
    const group = cost.rows.filter((r) => r.python === python && r.target === target);
    const best = bestPeer(group, (r) => r.usPerSample.median);
    const cell = (mode) => spread(group.find((r) => r.mode === mode)?.usPerSample);
    const ours = (id) => group.find((r) => r.profiler === id)?.usPerSample.median;
    return [python, target, ...modes.map(cell), f(ours('pyflame-core') - timerFloor(cost)), best ? best.mode : '—',
      ratioLower(ours('pyflame-ts'), best?.usPerSample.median), ratioLower(ours('pyflame-core'), best?.usPerSample.median)];
  });
  return table(['Python', 'target', ...modes.map((m) => `${m} µs`), 'core − timer µs', 'best peer', 'pyflame-ts CLI / best peer', 'core / best peer'], rows);
}

/** Median CPU of one wake-up of the sampler's timer alone (no reads) at the cost figure's rate. */
function timerFloor(cost) {
  return cost.rows.find((r) => r.baseline)?.usPerSample.median ?? NaN;
}

export function costWithStartupTable(cost) {
  const modes = [...new Set(cost.rows.map((r) => r.mode))];
  const targets = [...new Set(cost.rows.map((r) => `${r.python}|${r.target}`))];
  const longest = Math.max(...cost.durations);
  return table(['Python', 'target', ...modes.map((m) => `${m} µs`)], targets.map((key) => {
    const [python, target] = key.split('|');
    const group = cost.rows.filter((r) => r.python === python && r.target === target);
    return [python, target, ...modes.map((m) => spread(group.find((r) => r.mode === m)?.usPerSampleWithStartup))];
  })) + `\n\n(CPU of a whole ${longest} s recording including start-up, divided by its samples.)`;
}

/** The CPU-per-sample limit for a version (X.Y…): 20 µs on 3.11+, 60 µs on ≤ 3.10. */
const backToBackLimit = (version) => {
  const [major, minor] = version.split('.').map(Number);
  return major > 3 || (major === 3 && minor >= 11) ? 20 : 60;
};

export function rateTable(rate) {
  const best = bestPeerHigh(rate.rows, (r) => r.achievedHz.median);
  return table(['profiler', 'sustained rate, Hz', 'cores used', 'CPU per sample µs', 'rate / best peer'], rate.rows.map((r) => [
    r.mode, spreadBig(r.achievedHz), spread(r.cores, 2), spread(r.usPerSample), r.ours ? ratioHigher(r.achievedHz.median, best?.achievedHz.median) : '',
  ])) + `\n\nBest peer: ${best?.mode ?? '—'}.`;
}

export function slowdownTable(slow) {
  const rows = slow.rows.map((r) => {
    let ratio = '';
    if (r.ours) {
      // compare with the peers in the same class (blocking or not) at the same rate
      const peers = slow.rows.filter((p) => p.profiler && !p.ours && p.hz === r.hz && p.blocking === r.blocking);
      const best = bestPeer(peers, (p) => p.wall.median);
      ratio = best ? `${ratioLower(r.wall.median, best.wall.median)} vs ${best.mode}` : '—';
    }
    return [r.condition, spread(r.heldOffPct, 2), spread(r.twinRatioPct, 1), r.profiler ? spread(r.slowdownPctTwin, 1) : '0 (baseline)', spread(r.wall, 3), r.profiler ? spread(r.slowdownPct, 1) : '0 (baseline)', r.profiler ? spread(r.slowdownPctPaired, 1) : '', r.profiler ? f(r.slowdownPctOfBest, 1) : '',
      spread(r.wallLessWait, 3), r.profiler ? spread(r.slowdownPctLessWait, 1) : '0 (baseline)', ratio];
  });
  return table(['condition', 'held off the CPU %', 'vs twin %', 'slowdown vs twin %', 'wall s', 'slowdown %', 'paired slowdown %', 'best run vs best baseline %', 'wall − run-queue wait s', 'slowdown % without run-queue wait', 'wall / best peer (same mode)'], rows);
}

export function accuracyTable(acc) {
  const best = bestPeer(acc.rows, (r) => r.maxErrorPp.median);
  const fn = (r, name) => `${f(r.perFunction[name].reported.median)} / ${f(r.perFunction[name].truth.median)}`;
  return table(['profiler', 'alpha % reported/true', 'beta %', 'gamma %', 'max error pp', 'samples', 'vs best peer (pp)'], acc.rows.map((r) => [
    r.mode, fn(r, 'alpha'), fn(r, 'beta'), fn(r, 'gamma'), spread(r.maxErrorPp, 2), big(r.samples.median),
    r.ours && best ? `${(r.maxErrorPp.median - best.maxErrorPp.median >= 0 ? '+' : '')}${f(r.maxErrorPp.median - best.maxErrorPp.median, 2)} vs ${best.mode}` : '',
  ]));
}

export function aliasingTable(al) {
  const fn = (r, name) => `${f(r.perFunction[name].reported.median)} / ${f(r.perFunction[name].truth.median)}`;
  return table(['target', 'rate', 'profiler', 'alpha % reported/true', 'beta %', 'gamma %', 'max error pp (min–max)', 'binomial s.e. pp', 'samples'], al.rows.map((r) => [
    r.targetLabel, `${big(r.hz)} Hz`, r.mode, fn(r, 'alpha'), fn(r, 'beta'), fn(r, 'gamma'), spread(r.maxErrorPp, 2), f(r.sePp.median, 2), big(r.samples.median),
  ]));
}

export function dumpTable(dump) {
  const best = bestPeer(dump.rows, (r) => r.wallMs.median);
  return table(['command', 'wall ms', 'ratio to best peer'], dump.rows.map((r) => [
    r.tool, spread(r.wallMs), r.ours ? ratioLower(r.wallMs.median, best?.wallMs.median) : '',
  ]));
}

export function longRunTable(long) {
  return table(['profiler', 'samples', 'RSS at 10 % MiB', 'at 50 %', 'at end', 'growth 2nd half KiB/min', 'max RSS MiB'], long.rows.map((r) => [
    r.mode, big(r.samples), f(r.rssKbAt10pct / 1024), f(r.rssKbAt50pct / 1024), f(r.rssKbEnd / 1024), f(r.growthKbPerMin, 0), f(r.maxRssKb / 1024),
  ]));
}

/** One verdict per goal of issue 7: { goal, measured, met, margin }. */
export function goals(results) {
  const out = [];
  const verdict = (goal, value, limit, unit, lowerIsBetter = true, note = '') => {
    if (!Number.isFinite(value)) return out.push({ goal, measured: 'not measured', met: null, margin: '' });
    const met = lowerIsBetter ? value <= limit : value >= limit;
    let margin;
    if (lowerIsBetter) {
      const times = value > 0 ? ` (${f(met ? limit / value : value / limit, 1)}×)` : '';
      margin = met ? `${f(limit - value)} ${unit} under the limit${times}` : `${f(value - limit)} ${unit} over the limit${times}`;
    } else {
      margin = met ? `${f(value / limit, 2)}× the goal` : `${f((value / limit) * 100, 0)} % of the goal`;
    }
    out.push({ goal, measured: `${f(value)} ${unit}${note}`, met, margin });
  };
  const cost = results.figures.cost;
  if (cost) {
    for (const py of ['3.12', '3.10']) {
      const limit = backToBackLimit(py);
      const row = (id) => cost.rows.find((r) => r.python.startsWith(py) && r.depth === 50 && !r.threads && r.profiler === id);
      verdict(`CPU per sample at ${cost.hz} Hz (one timer wake-up included), 50 frames, Python ${py} (core) ≤ ${limit} µs`, row('pyflame-core')?.usPerSample.median, limit, 'µs');
      verdict(`CPU per sample at ${cost.hz} Hz (one timer wake-up included), 50 frames, Python ${py} (CLI) ≤ ${limit} µs`, row('pyflame-ts')?.usPerSample.median, limit, 'µs');
      verdict(`CPU per sample at ${cost.hz} Hz, 50 frames, Python ${py} (core) minus the timer's own wake-up ≤ ${limit} µs`,
        row('pyflame-core')?.usPerSample.median - timerFloor(cost), limit, 'µs');
    }
  }
  for (const rate of [results.figures.rate, results.figures.rate310].filter(Boolean)) {
    for (const id of ['pyflame-core', 'pyflame-ts']) {
      const r = rate.rows.find((x) => x.profiler === id);
      if (!r) continue;
      const cores = r.cores.median;
      // The 50 kHz goal is a 3.11+ goal (frames read in bulk from the data stack).
      if (backToBackLimit(rate.python) === 20) {
        verdict(`Sustained 50 kHz on a 50-frame ${rate.python} stack within one core (${id})`, r.achievedHz.median, 50_000, 'Hz', false,
          `, ${f(cores, 2)} cores${cores > 1 ? ' (over one core)' : ''}`);
        if (cores > 1) out.at(-1).met = false;
      }
      verdict(`CPU per sample, ${rate.depth} frames, Python ${rate.python}, sampling back to back (${id}) ≤ ${backToBackLimit(rate.python)} µs`, r.usPerSample?.median, backToBackLimit(rate.python), 'µs');
    }
  }
  const slow = results.figures.slowdown;
  if (slow) {
    for (const [blocking, hz, limit] of [[false, 100, 1], [false, 1000, 3], [true, 100, 2], [true, 1000, 10]]) {
      const r = slow.rows.find((x) => x.profiler === 'pyflame-ts' && x.blocking === blocking && x.hz === hz);
      verdict(`Target slowdown ${blocking ? '--blocking' : 'non-blocking'} at ${hz} Hz < ${limit} % (vs an unprofiled twin run at the same time)`, r?.slowdownPctTwin?.median, limit, '%');
      verdict(`Target slowdown ${blocking ? '--blocking' : 'non-blocking'} at ${hz} Hz < ${limit} % (time held off the CPU, less the no-profiler runs')`,
        r?.heldOffPct?.median - (slow.rows.find((x) => !x.profiler)?.heldOffPct?.median ?? NaN), limit, '%');
      verdict(`Target slowdown ${blocking ? '--blocking' : 'non-blocking'} at ${hz} Hz < ${limit} % (wall, paired with each repetition's baseline)`, r?.slowdownPctPaired?.median, limit, '%');
      verdict(`Target slowdown ${blocking ? '--blocking' : 'non-blocking'} at ${hz} Hz < ${limit} % (wall − run-queue wait)`, r?.slowdownPctLessWait.median, limit, '%');
    }
  }
  const acc = results.figures.accuracy;
  if (acc) {
    for (const r of acc.rows.filter((x) => x.ours)) verdict(`Reported shares within 2 pp of the truth (${r.mode})`, r.maxErrorPp.median, 2, 'pp');
  }
  return out;
}

export function goalsTable(list) {
  return table(['goal', 'measured (median)', 'met?', 'by how much'], list.map((g) => [
    g.goal, g.measured, g.met === null ? '—' : g.met ? '**met**' : '**missed**', g.margin,
  ]));
}

export function machineBlock(m, config) {
  return [
    `- Date: ${m.date}; machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}`,
    `- Load average before: ${m.loadBefore.map((x) => x.toFixed(2)).join(', ')}; after: ${m.loadAfter?.map((x) => x.toFixed(2)).join(', ') ?? '—'} (a shared machine: other jobs ran during the measurement)`,
    `- Versions: pyflame-ts ${m.versions['pyflame-ts']}, py-spy ${m.versions['py-spy']}, austin ${m.versions.austin}, Node ${m.node}, Python ${Object.values(m.pythons).join(' and ')}`,
    `- Repetitions: ${config.reps} (interleaved: each repetition runs every profiler once, in a rotated order); recording durations ${config.durations.join(' s and ')} s`,
  ].join('\n');
}

export function fullReport(results) {
  const { machine, config, figures } = results;
  const parts = [`## Results of ${machine.date.slice(0, 16).replace('T', ' ')} UTC`, '', machineBlock(machine, config), ''];
  parts.push('### Goals', '', goalsTable(goals(results)), '');
  if (figures.cost) {
    parts.push(`### 1. Sampler CPU per sample (µs, slope between ${figures.cost.durations.join(' s and ')} s recordings at ${figures.cost.hz} Hz)`, '',
      'Median (min–max) of the CPU (user+sys) each profiler process spends per sample. A sample reads every thread the profiler reads: for the 16-thread target that is 17 stacks (pyflame-ts `--threads`, py-spy `--idle`, austin all threads). "timer-floor" is not a profiler: the sampler\'s timer alone, waking at the same rate and reading nothing (measured once, with the first target); on a virtual machine one wake-up costs a large part of a sample, and every profiler that sleeps between samples pays it.', '',
      costTable(figures.cost), '', '![CPU per sample](bench/cpu-per-sample.svg)', '', '<details><summary>Including start-up</summary>', '', costWithStartupTable(figures.cost), '', '</details>', '');
  }
  if (figures.rate) {
    parts.push(`### 1b. Highest sustained rate (asked ${big(figures.rate.askedHz)} Hz, ${figures.rate.depth} frames, Python ${figures.rate.python})`, '', rateTable(figures.rate), '');
  }
  if (figures.rate310) {
    parts.push(`### 1c. Highest sustained rate on the ≤ 3.10 walker (asked ${big(figures.rate310.askedHz)} Hz, ${figures.rate310.depth} frames, Python ${figures.rate310.python})`, '', rateTable(figures.rate310), '');
  }
  if (figures.slowdown) {
    parts.push(`### 2. Target slowdown (fixed CPU-bound workload, Python ${figures.slowdown.python}, baseline ${f(figures.slowdown.baselineWall, 3)} s)`, '',
      '"Held off the CPU" is the share of the workload\'s time in which it was neither running nor waiting for a CPU (wall − run-queue wait − its own CPU time): the workload never sleeps, so that is the time a profiler kept it stopped, and a drift of the machine\'s speed moves wall and CPU time together. Each run starts two copies of the workload at the same moment, one per core, and profiles only the first. "vs twin" is the first copy\'s wall − run-queue wait over its twin\'s, so the drift of a shared machine\'s speed cancels; "slowdown vs twin" subtracts the median of the same ratio with no profiler (the goals use it). Slowdown % is per repetition against the median of the no-profiler runs; "paired" compares each run with the no-profiler run of the same repetition. "Without run-queue wait" subtracts the time the target was runnable but waited for a CPU (`/proc/self/schedstat`): it removes the other jobs of a shared machine, and keeps the time a blocking profiler held the target stopped.', '',
      slowdownTable(figures.slowdown), '');
  }
  if (figures.accuracy) {
    parts.push(`### 3. Accuracy (${figures.accuracy.seconds} s at ${figures.accuracy.hz} Hz, Python ${figures.accuracy.python}; truth = the program's own process_time split)`, '', accuracyTable(figures.accuracy), '');
  }
  if (figures.aliasing) {
    parts.push(`### 3b. Accuracy on periodic and aperiodic programs (Python ${figures.aliasing.python}; each row: median of the repetitions; truth = the program's own split)`, '',
      'The periodic target is a loop held to the monotonic clock with a 10 ms period (alpha 6 ms, beta 3, gamma 1 of each period). "pyflame-ts --periodic" is the exact ticker pyflame-ts used before (still available with that flag). The binomial standard error is the noise expected of the largest share at that many samples: a max error within about 2–3 of them is noise, beyond that bias.', '',
      aliasingTable(figures.aliasing), '');
  }
  for (const key of ['accuracy314', 'accuracy315']) {
    const acc = figures[key];
    if (acc) parts.push(`### 3${key === 'accuracy314' ? 'c' : 'd'}. Accuracy on Python ${acc.python} (${acc.seconds} s at ${acc.hz} Hz; Debian unstable's build, chrooted)`, '', accuracyTable(acc), '');
  }
  if (figures.dump) parts.push(`### 5. Dump latency (50 frames, Python ${figures.dump.python}, end-to-end wall time)`, '', dumpTable(figures.dump), '');
  if (figures.longRun) {
    const l = figures.longRun;
    parts.push(`### 6. Long run: profiler RSS (${l.seconds} s at ${big(l.hz)} Hz on a target with ~1,000 distinct stacks = the samples of ${f(l.equivalentMinutesAt100Hz)} min at 100 Hz)`, '', longRunTable(l), '');
  }
  return parts.join('\n');
}
