// The README's quick start: runs the bundled demo program, records it once for a few seconds
// and writes that one recording three ways into ./demo-output/: folded text (profile.txt), a
// flame graph (profile.svg) and the interactive report (report.html), so the summary printed
// here, the picture and the report all show the same samples.
//   DEMO_SECONDS (default 3) and DEMO_OUT (default ./demo-output) change the length and the folder.
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { sample } = createRequire(import.meta.url)(path.join(root, 'dist', 'index.js'))
const outDir = process.env.DEMO_OUT ?? path.join(root, 'demo-output')
const seconds = Number(process.env.DEMO_SECONDS ?? 3)
const python = ['python3', 'python'].find((p) => spawnSync(p, ['-c', 'pass']).status === 0)
if (!python) {
  console.error('demo: no python3 on PATH; install Python 3 to run the demo')
  process.exit(1)
}
fs.mkdirSync(outDir, { recursive: true })
const app = spawn(python, [path.join(root, 'examples', 'demo_app.py')], { stdio: ['ignore', 'pipe', 'inherit'] })
await new Promise((resolve) => app.stdout.once('data', resolve))
console.log(`demo: profiling ${python} examples/demo_app.py (PID ${app.pid}) for ${seconds} seconds ...`)
try {
  // One recording (what \`pyflame-ts record -p PID -s 3 -r 0.005\` takes), written three ways.
  const profile = await sample({ pid: app.pid, seconds, rate: 0.005 })
  const folded = profile.toFolded()
  const outputs = {
    'profile.txt': folded,
    'profile.svg': await profile.toSvg(),
    'report.html': await profile.toHtml({ commandLine: `${python} examples/demo_app.py` }),
  }
  for (const [file, text] of Object.entries(outputs)) {
    fs.writeFileSync(path.join(outDir, file), text)
    console.log(`demo: wrote ${path.relative(process.cwd(), path.join(outDir, file))}`)
  }
  const lines = folded.trim().split('\n')
  const leaf = new Map()
  for (const line of lines) {
    const count = Number(line.slice(line.lastIndexOf(' ') + 1))
    const frame = line.slice(0, line.lastIndexOf(' ')).split(';').pop()
    const fn = frame === '(idle)' ? '(idle)' : frame.split(':').slice(-2, -1)[0]
    leaf.set(fn, (leaf.get(fn) ?? 0) + count)
  }
  const total = [...leaf.values()].reduce((a, b) => a + b, 0)
  console.log(`demo: where the time went (leaf functions, ${total} samples):`)
  for (const [fn, count] of [...leaf].sort((a, b) => b[1] - a[1]).slice(0, 6)) {
    console.log(`  ${((100 * count) / total).toFixed(1).padStart(5)}%  ${fn}`)
  }
  console.log(`demo: open ${path.relative(process.cwd(), path.join(outDir, 'report.html'))} (or profile.svg) in a browser`)
} finally {
  app.kill()
}
