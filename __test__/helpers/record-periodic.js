// Runs several recordings at once through the Node API, in a process of its own (so that
// --blocking may seize targets the test spawned), and prints one JSON line per recording
// group: how many samples fell in alpha, beta and gamma (the innermost of the three on the
// stack) out of all samples in the view. Used by __test__/sampling-periodic.spec.ts.
//
//   node record-periodic.js '<json>'   with { seconds, maxSeconds, groups: [{ key, pid,
//                                         interval, copies, blocking, threads, periodic,
//                                         minTicks }] }
//
// Every recording runs at least `seconds` and until each group has taken `minTicks` samples
// in all (a loaded machine misses some), at most `maxSeconds`; all stop at the same moment, so
// the targets' own clocks cover the same window.
//
// Recordings of one group sample the same target at the same interval; their counts are
// summed (each is an independent Poisson process). Once every recording has taken a sample,
// each target gets SIGUSR1 (reset its own clocks); when all have ended, SIGUSR2 (report).

const path = require('node:path')
const { startRecording } = require(path.join(__dirname, '..', '..', 'dist', 'index.js'))

const FUNCTIONS = ['alpha', 'beta', 'gamma']

function tally(raw, threadsView) {
  const counts = { alpha: 0, beta: 0, gamma: 0, total: 0 }
  const named = new Set(raw.frames.map((f, i) => (FUNCTIONS.includes(f.name) ? i : -1)).filter((i) => i >= 0))
  for (const entry of raw.entries) {
    if (threadsView) {
      // The loop runs on every thread but the main one (thread names are not always known).
      if (raw.threads[entry.thread].tid === raw.pid) continue
    } else if (!entry.gil) continue
    counts.total += entry.count
    const stack = raw.stacks[entry.stack]
    for (let i = stack.length - 1; i >= 0; i--) {
      if (named.has(stack[i])) {
        counts[raw.frames[stack[i]].name] += entry.count
        break
      }
    }
  }
  if (!threadsView) counts.total += raw.gilIdleTicks
  return counts
}

async function main() {
  const request = JSON.parse(process.argv[2])
  const runs = []
  for (const group of request.groups) {
    for (let copy = 0; copy < (group.copies ?? 1); copy++) {
      const handle = startRecording({ pid: group.pid, seconds: Infinity, rate: group.interval, blocking: group.blocking, periodic: group.periodic })
      runs.push({ group, handle })
    }
  }
  const pids = [...new Set(request.groups.map((g) => g.pid))]
  const started = Date.now()
  while (runs.some((r) => r.handle.progress().ticks === 0) && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 2))
  for (const pid of pids) process.kill(pid, 'SIGUSR1')
  const since = Date.now()
  const ticks = (group) => runs.filter((r) => r.group === group).reduce((sum, r) => sum + r.handle.progress().ticks, 0)
  const short = () => request.groups.some((g) => ticks(g) < (g.minTicks ?? 0))
  while (Date.now() - since < 1000 * request.seconds || (short() && Date.now() - since < 1000 * (request.maxSeconds ?? request.seconds))) {
    await new Promise((r) => setTimeout(r, 20))
  }
  for (const run of runs) run.handle.stop()
  const profiles = await Promise.all(runs.map((r) => r.handle.done))
  for (const pid of pids) process.kill(pid, 'SIGUSR2')
  const results = new Map()
  runs.forEach((run, i) => {
    const raw = profiles[i].raw
    const counts = tally(raw, run.group.threads)
    const result = results.get(run.group.key) ?? { key: run.group.key, alpha: 0, beta: 0, gamma: 0, total: 0, samples: 0, missed: 0, errors: 0, seconds: 0 }
    for (const k of ['alpha', 'beta', 'gamma', 'total']) result[k] += counts[k]
    result.samples += raw.ticks
    result.missed += raw.missed
    result.errors += raw.errors
    result.seconds = Math.max(result.seconds, raw.durationSecs)
    results.set(run.group.key, result)
  })
  for (const result of results.values()) process.stdout.write(JSON.stringify(result) + '\n')
}

main().catch((error) => {
  process.stderr.write(`${error.code ?? ''} ${error.message}\n`)
  process.exit(1)
})
