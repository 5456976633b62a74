// The support matrix through the public API: on every interpreter installed here, `dump()` of
// the known program (symbols, and `forceScan` as if the binary were stripped, and `forceScan`
// with a `pythonVersion` override) must give the same names, files, lines, thread count and GIL
// holder. Each verified cell is written to __test__/.tmp/support-matrix/; at the end all cells
// (these and those of the Rust live/synthetic tests, when they ran) are merged into
// __test__/.tmp/support-matrix.json, which `node tools/support-matrix.mjs --write` renders.

import test from 'ava'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { dump } from '../src/index'
import type { DumpResult, DumpThread } from '../src/index'
import { findAllPythons, findNewestPythons, majorMinor, newestPythonsDir, spawnPython, type PythonInstall } from './helpers/pythons'

const ROOT = path.resolve(__dirname, '..')
const PROGRAM = path.join(__dirname, 'programs', 'matrix_known.py')
const ROWS_DIR = path.join(ROOT, '__test__', '.tmp', 'support-matrix')

// Lines of matrix_known.py (see the comments there).
const NAP_LINE = 10
const SPIN_LINES = [15, 16]
const OUTER_LINE = 20
const MAIN_LINE = 29

const shortName = (name: string) => name.split('.').pop()!

interface Variant {
  name: string
  shape: string
  options: (py: PythonInstall) => { forceScan?: boolean; pythonVersion?: string }
}

const VARIANTS: Variant[] = [
  { name: 'symbols', shape: 'plain process (public dump API)', options: () => ({}) },
  { name: 'force-scan', shape: 'force_scan (as if stripped; public dump API)', options: () => ({ forceScan: true }) },
  {
    name: 'force-scan-override',
    shape: 'force_scan + --python-version X.Y (public dump API)',
    options: (py) => ({ forceScan: true, pythonVersion: majorMinor(py.version).join('.') }),
  },
]

/** Checks one dump of the known program; returns whether the spinning thread held the GIL. */
function checkDump(t: import('ava').ExecutionContext, result: DumpResult, label: string): { spinHoldsGil: boolean; napHoldsGil: boolean; spinRunning: boolean } {
  const threads = result.threads.filter((th) => th.interpreterId === 0)
  t.is(threads.length, 2, `${label}: thread count`)
  const leaf = (th: DumpThread) => shortName(th.frames[0]?.name ?? '')
  const spinThread = threads.find((th) => leaf(th) === 'spin')
  const napThread = threads.find((th) => leaf(th) === 'nap')
  if (!spinThread || !napThread) {
    t.fail(`${label}: expected a spin and a nap stack, got ${JSON.stringify(threads.map((th) => th.frames.map((f) => f.name)))}`)
    return { spinHoldsGil: false, napHoldsGil: false, spinRunning: false }
  }
  t.is(spinThread.error, undefined, label)
  const [spin, outer, main] = spinThread.frames
  const root = spinThread.frames[spinThread.frames.length - 1]
  t.true(SPIN_LINES.includes(spin.line), `${label}: spin line ${spin.line}`)
  t.is(spin.filename, PROGRAM, `${label}: file name`)
  t.deepEqual([shortName(outer.name), outer.line], ['outer', OUTER_LINE], label)
  t.deepEqual([shortName(main.name), main.line], ['main', MAIN_LINE], label)
  t.is(root.name, '<module>', label)
  t.is(napThread.frames[0].line, NAP_LINE, `${label}: nap line`)
  t.is(napThread.frames[0].filename, PROGRAM, label)
  return { spinHoldsGil: spinThread.holdsGil, napHoldsGil: napThread.holdsGil, spinRunning: !spinThread.idle }
}

/** The same build label the Rust tests write (`pyenv shared (libpython)`, `Debian static stripped`). */
function buildLabel(py: PythonInstall): string {
  const newest: Partial<Record<PythonInstall['kind'], string>> = {
    'sid-release': 'Debian unstable static stripped (chroot)',
    'sid-debug': 'Debian unstable debug build, unstripped (chroot)',
    'sid-nopie': 'Debian unstable non-PIE static stripped (chroot)',
    'source-free-threaded': 'free-threaded (--disable-gil) built from Debian stable source',
  }
  if (newest[py.kind]) return newest[py.kind]!
  const origin = py.kind.startsWith('pyenv') ? 'pyenv' : py.kind.startsWith('debian') ? 'Debian' : 'system'
  const linkage = py.kind.endsWith('shared') ? 'shared (libpython)' : 'static'
  let stripped = false
  try {
    stripped = execFileSync('file', ['-L', py.path], { encoding: 'utf8' }).includes(', stripped')
  } catch {
    stripped = false
  }
  return `${origin} ${linkage}${stripped ? ' stripped' : ''}`
}

function writeRow(row: Record<string, unknown>): void {
  fs.mkdirSync(ROWS_DIR, { recursive: true })
  const file = String(row.id).replace(/[^A-Za-z0-9.-]/g, '_')
  fs.writeFileSync(path.join(ROWS_DIR, `ava-${file}.json`), JSON.stringify(row) + '\n')
}

const pythons = findAllPythons()

// The newest interpreters come from scripts/pythons/fetch.sh (run by .ci/run); where they
// could not be had, say which are skipped instead of passing silently.
for (const name of findNewestPythons().missing) {
  test.skip(`${name}: not in ${newestPythonsDir()} (scripts/pythons/fetch.sh could not fetch or build it here)`, () => {})
}

if (pythons.length === 0) {
  test('no Python interpreter installed: nothing to check', (t) => {
    t.log('findPythons() found no interpreter; the matrix is empty on this machine')
    t.pass()
  })
}

for (const py of pythons) {
  test.serial(`${py.label}: dump() of the known program with symbols, forceScan and an override`, async (t) => {
    const program = await spawnPython(py.path, PROGRAM)
    try {
      // `ready` is printed just before main() calls outer(): on a busy machine the first dump
      // can land in between. Wait until the main thread is in spin() (it never leaves it).
      for (let i = 0; i < 100; i++) {
        const first = await dump(program.pid, { blocking: false })
        if (first.threads.some((th) => th.frames[0]?.name.split('.').pop() === 'spin')) break
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      for (const variant of VARIANTS) {
        const label = `${py.label} ${variant.name}`
        let spinHeld = 0
        let napHeld = 0
        let spinRunning = 0
        let dumps = 0
        let result: DumpResult | undefined
        // On a loaded machine the GIL can be in flight (dropped, not yet taken) at many
        // dump instants, so dump until the spinner has been seen holding it a few times.
        // Without a GIL, until it has been seen running a few times.
        const enough = () => (py.freeThreaded ? spinRunning >= 4 : spinHeld >= 4)
        while (dumps < 40 && !enough()) {
          // Non-blocking: the test spawned the target itself, and pausing one's own child is refused.
          result = await dump(program.pid, { blocking: false, ...variant.options(py) })
          dumps++
          const held = checkDump(t, result, label)
          if (held.spinHoldsGil) spinHeld++
          if (held.napHoldsGil) napHeld++
          if (held.spinRunning) spinRunning++
        }
        const [major, minor] = majorMinor(py.version)
        if (variant.name === 'force-scan-override') {
          t.true(result!.pythonVersion.startsWith(`${major}.${minor}`), `${label}: ${result!.pythonVersion}`)
        } else {
          t.is(result!.pythonVersion, py.version, `${label}: exact version`)
        }
        t.is(result!.freeThreaded, py.freeThreaded === true, `${label}: free-threaded build`)
        if (py.freeThreaded) {
          // No GIL: nobody holds one, the spinner is seen running on its own.
          t.true(result!.gilDisabled, `${label}: the GIL is off`)
          t.is(spinHeld + napHeld, 0, `${label}: no thread holds a GIL that is off`)
          t.true(spinRunning >= 4, `${label}: spinning thread running in ${spinRunning}/${dumps} dumps`)
        } else {
          // The spinning thread holds the GIL except at hand-overs to the napper (every 50 ms);
          // the napper holds it only for those instants.
          t.true(spinHeld >= 4, `${label}: spinning thread held the GIL in ${spinHeld}/${dumps} dumps`)
          t.true(napHeld <= Math.max(1, spinHeld / 2), `${label}: sleeping thread held the GIL in ${napHeld}/${dumps} dumps`)
        }
        writeRow({
          id: `${py.label}-api-${variant.name}`,
          version: py.freeThreaded ? `${py.version}t` : py.version,
          build: buildLabel(py),
          shape: variant.shape,
          verified: 'live',
          discovery: variant.name === 'symbols' ? 'symbols' : '.PyRuntime section or scan of .bss/.data',
          versionSource: variant.name === 'force-scan-override' ? '--python-version (patch from memory when the minor agrees)' : 'memory',
          gil: py.freeThreaded ? `no GIL (free-threaded, off): spinning thread running in ${spinRunning}/${dumps} dumps` : `spinning thread held it in ${spinHeld}/${dumps} dumps`,
          threads: 2,
          checks: ['function names', 'files', 'line numbers', 'thread count', 'GIL holder'],
          test: 'npx ava __test__/matrix.spec.ts',
        })
      }
    } finally {
      await program.kill()
    }
  })
}

test.after.always('merge every verified cell into support-matrix.json', async () => {
  const { collectRows } = await import('../tools/support-matrix.mjs')
  const rows = collectRows(ROWS_DIR)
  fs.writeFileSync(path.join(ROOT, '__test__', '.tmp', 'support-matrix.json'), JSON.stringify(rows, null, 2) + '\n')
})
