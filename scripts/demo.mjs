// The README's quick start: runs the bundled demo program, profiles it for a few seconds with
// `pyflame-ts record`, and leaves a folded profile and a flame graph in ./demo-output/.
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const cli = path.join(root, 'dist', 'cli', 'pyflame-ts.js')
const outDir = path.join(root, 'demo-output')
const python = ['python3', 'python'].find((p) => spawnSync(p, ['-c', 'pass']).status === 0)
if (!python) {
  console.error('demo: no python3 on PATH; install Python 3 to run the demo')
  process.exit(1)
}
fs.mkdirSync(outDir, { recursive: true })
const app = spawn(python, [path.join(root, 'examples', 'demo_app.py')], { stdio: ['ignore', 'pipe', 'inherit'] })
await new Promise((resolve) => app.stdout.once('data', resolve))
console.log(`demo: profiling ${python} examples/demo_app.py (PID ${app.pid}) for 3 seconds ...`)
try {
  for (const file of ['profile.txt', 'profile.svg']) {
    const out = path.join(outDir, file)
    const run = spawnSync(process.execPath, [cli, 'record', '-p', String(app.pid), '-s', '3', '-r', '0.005', '-o', out], { stdio: 'inherit' })
    if (run.status !== 0) process.exit(run.status ?? 1)
    console.log(`demo: wrote ${path.relative(process.cwd(), out)}`)
  }
  const lines = fs.readFileSync(path.join(outDir, 'profile.txt'), 'utf8').trim().split('\n')
  const leaf = new Map()
  for (const line of lines) {
    const count = Number(line.slice(line.lastIndexOf(' ') + 1))
    const frame = line.slice(0, line.lastIndexOf(' ')).split(';').pop()
    const fn = frame === '(idle)' ? '(idle)' : frame.split(':').slice(-2, -1)[0]
    leaf.set(fn, (leaf.get(fn) ?? 0) + count)
  }
  const total = [...leaf.values()].reduce((a, b) => a + b, 0)
  console.log('demo: where the time went (leaf functions):')
  for (const [fn, count] of [...leaf].sort((a, b) => b[1] - a[1]).slice(0, 6)) {
    console.log(`  ${((100 * count) / total).toFixed(1).padStart(5)}%  ${fn}`)
  }
  console.log(`demo: open ${path.relative(process.cwd(), path.join(outDir, 'profile.svg'))} in a browser`)
} finally {
  app.kill()
}
