// Render benchmark: pyflame-ts `render` against flamegraph.pl (and inferno-flamegraph when
// installed) on the same seeded synthetic folded inputs (bench/render-input.mjs).
//
//   npm run build:ts                       # pyflame-ts is measured from dist/ (or PYFLAME_DIST)
//   git clone https://github.com/brendangregg/FlameGraph bench/peers/FlameGraph   # or FLAMEGRAPH_PL=
//   cargo install inferno                  # optional: inferno-flamegraph on PATH (or INFERNO_FLAMEGRAPH=)
//   node bench/render.mjs --lines 10000,100000 [--seed 42] [--write bench/RENDER_RESULTS.md]
//     [--perl-max-lines 100000]   # flamegraph.pl is skipped above this (1M lines: ~7 min, 11 GiB)
//     [--repeat 3]                # runs per tool (flamegraph.pl: 1), interleaved; the median-CPU run is reported
//
// Every tool runs in its own process under /usr/bin/time: wall time, CPU time (user + sys: the
// fairer figure on a shared machine), peak RSS, SVG size and frames drawn. Default options
// for every tool (flamegraph.pl: 1200 px, --minwidth 0.1 px; pyflame-ts: fluid, 0.1 px of a
// 1200 px image; inferno: 0.01 %). Inputs and SVGs go to bench/results/ (gitignored).

import { spawnSync } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { syntheticFolded } from './render-input.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '..')
const RESULTS = path.join(HERE, 'results')

function argument(name, fallback) {
  const index = process.argv.indexOf(`--${name}`)
  return index === -1 ? fallback : process.argv[index + 1]
}

// Child mode: render one file with the built pyflame-ts, print the summary as JSON on stderr.
if (process.argv[2] === '--child') {
  const dist = process.argv[3]
  const { renderFlamegraph } = await import(path.join(dist, 'flamegraph', 'render.js'))
  const { fileSource } = await import(path.join(dist, 'folded', 'line-reader.js'))
  const out = createWriteStream(process.argv[5])
  const summary = await renderFlamegraph({ sources: [fileSource(process.argv[4])] }, {}, out)
  await new Promise((resolve) => out.end(resolve))
  process.stderr.write(JSON.stringify(summary) + '\n')
  process.exit(0)
}

async function writeInput(lines, seed) {
  const file = path.join(RESULTS, `render-${lines}-seed${seed}.folded`)
  if (existsSync(file)) return file
  const out = createWriteStream(file)
  let buffer = ''
  for (const line of syntheticFolded(lines, seed)) {
    buffer += line + '\n'
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await new Promise((resolve) => out.once('drain', resolve))
      buffer = ''
    }
  }
  await new Promise((resolve) => out.end(buffer, resolve))
  return file
}

function which(command) {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim()
  return found || undefined
}

/** Runs argv under /usr/bin/time, stdout to `output`. */
function measure(argv, output) {
  const timeFile = path.join(RESULTS, 'render-time.txt')
  const shell = `/usr/bin/time -o ${JSON.stringify(timeFile)} -f '%e %U %S %M' "$@" > ${JSON.stringify(output)}`
  const run = spawnSync('sh', ['-c', shell, 'sh', ...argv], { encoding: 'utf8', maxBuffer: 1 << 26 })
  if (run.status !== 0) throw new Error(`${argv.join(' ')} failed: ${run.stderr.slice(-2000)}`)
  const [wall, user, sys, rssKb] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number)
  const svg = readFileSync(output, 'utf8')
  const drawn = (svg.match(/<g[ >]/g) ?? []).length - (svg.includes('<g id="frames"') ? 1 : 0)
  return { wall, cpu: user + sys, rssMiB: rssKb / 1024, bytes: statSync(output).size, drawn, stderr: run.stderr }
}

const lineCounts = argument('lines', '10000,100000').split(',').map(Number)
const seed = Number(argument('seed', '42'))
const perlMaxLines = Number(argument('perl-max-lines', '100000'))
const dist = path.resolve(process.env.PYFLAME_DIST ?? path.join(ROOT, 'dist'))
const flamegraphPl = process.env.FLAMEGRAPH_PL ?? path.join(HERE, 'peers', 'FlameGraph', 'flamegraph.pl')
const inferno = process.env.INFERNO_FLAMEGRAPH ?? which('inferno-flamegraph')
if (!existsSync(path.join(dist, 'flamegraph', 'render.js'))) throw new Error(`no built pyflame-ts in ${dist}: run npm run build:ts (or set PYFLAME_DIST)`)
mkdirSync(RESULTS, { recursive: true })

const repeat = Number(argument('repeat', '1'))

/** The run with the median CPU time of `runs`. */
function median(runs) {
  return [...runs].sort((a, b) => a.cpu - b.cpu)[Math.floor((runs.length - 1) / 2)]
}

const rows = []
for (const lines of lineCounts) {
  const input = await writeInput(lines, seed)
  const inputMB = statSync(input).size / 1e6
  const tools = [
    { tool: 'pyflame-ts', argv: [process.execPath, fileURLToPath(import.meta.url), '--child', dist, input, '/dev/stdout'], file: 'pyflame-ts' },
    ...(inferno ? [{ tool: 'inferno-flamegraph', argv: [inferno, input], file: 'inferno' }] : []),
    ...(existsSync(flamegraphPl) && lines <= perlMaxLines ? [{ tool: 'flamegraph.pl', argv: ['perl', flamegraphPl, input], file: 'flamegraph-pl' }] : []),
  ]
  const runs = new Map(tools.map((t) => [t.tool, []]))
  for (let round = 0; round < repeat; round++) {
    for (const { tool, argv, file } of tools) {
      // flamegraph.pl takes minutes a run and is 10× off: once is enough.
      if (tool === 'flamegraph.pl' && round > 0) continue
      const run = measure(argv, path.join(RESULTS, `render-${lines}.${file}.svg`))
      if (tool === 'pyflame-ts') {
        const summary = JSON.parse(run.stderr.trim().split('\n').pop())
        Object.assign(run, { samples: summary.totalSamples, merged: summary.mergedFrames })
      }
      runs.get(tool).push(run)
      console.error(`${lines} lines: ${tool} ${run.wall}s wall, ${run.cpu.toFixed(2)}s CPU`)
    }
  }
  for (const { tool } of tools) {
    const all = runs.get(tool)
    rows.push({ lines, inputMB, tool, ...median(all), cpus: all.map((r) => r.cpu) })
  }
}

const perl = new Map(rows.filter((r) => r.tool === 'flamegraph.pl').map((r) => [r.lines, r]))
let table = '| Lines | Input | Tool | Wall | CPU (user+sys) | Peak RSS | SVG | Frames drawn | CPU vs flamegraph.pl |\n|---|---|---|---|---|---|---|---|---|\n'
for (const r of rows) {
  const base = perl.get(r.lines)
  const speedup = base && r.tool !== 'flamegraph.pl' ? `${(base.cpu / r.cpu).toFixed(1)}× faster` : '—'
  const cpu = r.cpus.length > 1 ? `${r.cpu.toFixed(2)} s (${r.cpus.map((c) => c.toFixed(2)).join(', ')})` : `${r.cpu.toFixed(2)} s`
  table += `| ${r.lines.toLocaleString('en-US')} | ${r.inputMB.toFixed(1)} MB | ${r.tool} | ${r.wall.toFixed(2)} s | ${cpu} | ${r.rssMiB.toFixed(0)} MiB | ${(r.bytes / 1e6).toFixed(1)} MB | ${r.drawn.toLocaleString('en-US')} | ${speedup} |\n`
}
const extra = rows.filter((r) => r.tool === 'pyflame-ts').map((r) => `- ${r.lines.toLocaleString('en-US')} lines: ${Number(r.samples).toLocaleString('en-US')} samples, ${r.merged.toLocaleString('en-US')} merged frames.`).join('\n')
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
const header =
  `\`node bench/render.mjs --lines ${lineCounts.join(',')} --repeat ${repeat}\` (seed ${seed}), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ` +
  `Node ${process.version}, load average at the end ${load}. CPU is user + sys; with several runs the row is the run with the median CPU, all runs' CPU in brackets.\n\n`
const report = `${header}${table}\n${extra}\n`
process.stdout.write(report)
const write = argument('write', undefined)
if (write) writeFileSync(path.resolve(write), report)
