// Issue 9: the `pyflame` command behaves as Pyflame 1.6 did — its flags, its output, its
// messages — on every interpreter here. Each test runs the built CLI against real Python
// programs and checks what was sampled.

import test from 'ava'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { native } from '../src/native'
import { leafCount, parseFolded, pyflame, PYFLAME, ROOT, type RunResult } from './helpers/cli'
import { findPythons, majorMinor, spawnPython, type SpawnedPython } from './helpers/pythons'

const PROGRAMS = path.join(ROOT, '__test__', 'programs')
const program = (name: string) => path.join(PROGRAMS, name)
const pythons = findPythons()
/** The newest Python 3 here, for the tests that need one interpreter only. */
const python3 = [...pythons].reverse().find((p) => majorMinor(p.version)[0] === 3) ?? pythons[pythons.length - 1]

/** A folded frame as Pyflame writes it: `path:function:line`. */
const FRAME = /^[^;]+:[^:;]+:\d+$/
const FRAME_WITHOUT_LINE = /^[^;]+:[^:;]+$/
const ERROR_CODE_LINE = /\(ERR_[A-Z_]+\)\n$/

function functionsOf(stacks: Map<string, number>): Set<string> {
  const names = new Set<string>()
  for (const stack of stacks.keys()) for (const frame of stack.split(';')) names.add(frame.split(':')[1])
  return names
}

function total(stacks: Map<string, number>): number {
  return [...stacks.values()].reduce((a, b) => a + b, 0)
}

/** Runs a test body against a started program, killing the program whatever happens. */
async function withProgram<T>(python: string, script: string, body: (target: SpawnedPython) => Promise<T>): Promise<T> {
  const target = await spawnPython(python, program(script))
  try {
    return await body(target)
  } finally {
    await target.kill()
  }
}

/** A failure as Pyflame reported it: exit 1, nothing on stdout, stderr opening with its wording and ending with our code. */
function assertFailure(t: import('ava').ExecutionContext, run: RunResult, opening: string | RegExp, code?: string) {
  t.is(run.code, 1, run.stderr)
  t.is(run.stdout, '')
  if (typeof opening === 'string') t.true(run.stderr.startsWith(opening), `stderr does not start with ${JSON.stringify(opening)}: ${run.stderr}`)
  else t.regex(run.stderr, opening)
  t.regex(run.stderr, code ? new RegExp(`\\(${code}\\)\\n$`) : ERROR_CODE_LINE)
}

test('at least one CPython interpreter is installed to test against', (t) => {
  t.log(`interpreters: ${pythons.map((p) => p.label).join(', ')}; single-interpreter tests use ${python3?.label}`)
  t.true(pythons.length > 0)
})

for (const python of pythons) {
  const tag = `[${python.label}]`

  test(`${tag} -p writes unique folded lines with (idle) for the sleeping half, -x drops (idle), stderr stays empty`, async (t) => {
    await withProgram(python.path, 'pyflame_half_sleeper.py', async (target) => {
      const run = await pyflame(['-p', String(target.pid), '-s', '1.5'])
      t.is(run.code, 0, run.stderr)
      t.is(run.stderr, '')
      const stacks = parseFolded(run.stdout)
      for (const stack of stacks.keys()) {
        if (stack === '(idle)') continue
        for (const frame of stack.split(';')) t.regex(frame, FRAME)
        // Root first: every stack starts in the module and goes down through main().
        t.regex(stack, /^[^;]*pyflame_half_sleeper\.py:<module>:\d+;[^;]*:main:\d+/)
      }
      t.true(leafCount(stacks, 'toil') > 0, run.stdout)
      t.true((stacks.get('(idle)') ?? 0) > 0, `no (idle) line while nap() sleeps:\n${run.stdout}`)

      const busyOnly = await pyflame(['-x', '-p', String(target.pid), '-s', '1'])
      t.is(busyOnly.code, 0, busyOnly.stderr)
      t.is(busyOnly.stderr, '')
      const busyStacks = parseFolded(busyOnly.stdout)
      t.false(busyStacks.has('(idle)'))
      t.true(leafCount(busyStacks, 'toil') > 0)
    })
  })

  test(`${tag} -t follows a forking command to its end (children exiting early do not stop it), keeps its stdout out, exits 0`, async (t) => {
    const run = await pyflame(['--flamechart', '-t', python.path, program('pyflame_forker.py')])
    t.is(run.code, 0, run.stderr)
    // The command's stdout went to stderr, and nothing else did.
    const marker = /^final phase at (\d+\.\d+)\n$/.exec(run.stderr)
    t.truthy(marker, `stderr: ${run.stderr}`)
    t.false(run.stdout.includes('final phase'))
    const lines = run.stdout.split('\n').slice(0, -1)
    t.true(lines.length >= 2 && lines.length % 2 === 0, run.stdout)
    for (let i = 1; i < lines.length; i += 2) t.true(lines[i] === '(idle)' || /^([^;]+:[^:;]+:\d+;)+$/.test(lines[i]), lines[i])
    // Samples taken after the last phase began: the trace outlived every child and lasted to the end.
    const lastSampleUs = Number(lines[lines.length - 2])
    t.true(lastSampleUs >= Number(marker![1]) * 1e6, `last sample at ${lastSampleUs} µs, last phase from ${marker![1]} s`)

    const folded = await pyflame(['-t', python.path, program('pyflame_forker.py')])
    t.is(folded.code, 0, folded.stderr)
    t.regex(folded.stderr, /^final phase at \d+\.\d+\n$/)
    const stacks = parseFolded(folded.stdout)
    t.true(stacks.size > 0)
    for (const stack of stacks.keys()) if (stack !== '(idle)') for (const frame of stack.split(';')) t.regex(frame, FRAME)
  })
}

for (const python of pythons.filter((p) => majorMinor(p.version)[0] === 3 && majorMinor(p.version)[1] >= 13)) {
  test(`[${python.label}] every frame keeps a line number, 0 for the __init__ shim frame that has none`, async (t) => {
    await withProgram(python.path, 'pyflame_init_shim.py', async (target) => {
      const run = await pyflame(['-x', '-p', String(target.pid), '-s', '0.5'])
      t.is(run.code, 0, run.stderr)
      const stacks = parseFolded(run.stdout)
      for (const stack of stacks.keys()) for (const frame of stack.split(';')) t.regex(frame, FRAME)
      t.true([...stacks.keys()].some((stack) => /;__init__:__init__:0;[^;]*:Widget\.__init__:\d+$/.test(stack)), run.stdout)
    })
  })
}

test('a PID given without -p still works, with a WARNING line first on stderr', async (t) => {
  await withProgram(python3.path, 'busy.py', async (target) => {
    const run = await pyflame(['-s', '0', String(target.pid)])
    t.is(run.code, 0, run.stderr)
    t.regex(run.stderr, /^WARNING: Specifying a PID to trace without -p is deprecated.*\n$/)
    t.is(total(parseFolded(run.stdout)), 1)
  })
})

test('-s 0 takes one sample: one line, count 1; getopt spellings -s0 and --seconds=0 mean the same', async (t) => {
  await withProgram(python3.path, 'busy.py', async (target) => {
    for (const args of [['-s', '0'], ['-s0'], ['--seconds=0'], ['--sec', '0']]) {
      const run = await pyflame([...args, '-p', String(target.pid)])
      t.is(run.code, 0, `${args.join(' ')}: ${run.stderr}`)
      const lines = run.stdout.split('\n')
      t.is(lines.length, 2, run.stdout)
      t.regex(lines[0], / 1$/)
    }
  })
})

test('-r is the interval in seconds: -r 0.1 over 1 s takes about 11 samples, not 100s; a hertz-looking -r fails with the fix', async (t) => {
  await withProgram(python3.path, 'busy.py', async (target) => {
    const slow = await pyflame(['-r', '0.1', '-s', '1', '-p', String(target.pid)])
    t.is(slow.code, 0, slow.stderr)
    const samples = total(parseFolded(slow.stdout))
    // The first sample plus a Poisson count of mean 10 (random gaps of 0.1 s on average): more
    // than 25 has a chance of 1 in 10,000.
    t.true(samples >= 1 && samples <= 25, `${samples} samples`)

    const hertz = await pyflame(['-r', '100', '-p', String(target.pid)])
    assertFailure(t, hertz, /^pyflame: -r 100 means one sample every 100 seconds.*use -r 0\.01/, 'ERR_INVALID_ARGUMENT')
    t.false(hertz.stderr.includes('--hz'), 'the pyflame front has no --hz to suggest')
  })
})

test('--threads shows every thread, sleeping ones too, and -x keeps them (Pyflame dropped only the (idle) bucket)', async (t) => {
  await withProgram(python3.path, 'pyflame_two_sleepers.py', async (target) => {
    for (const extra of [[], ['-x']]) {
      const run = await pyflame(['--threads', ...extra, '-p', String(target.pid), '-s', '1'])
      t.is(run.code, 0, run.stderr)
      t.is(run.stderr, '')
      const stacks = parseFolded(run.stdout)
      t.false(stacks.has('(idle)'))
      const names = functionsOf(stacks)
      t.true(names.has('napper_one') && names.has('napper_two'), run.stdout)
      t.true(names.has('main'), `the main thread waiting in join() is missing:\n${run.stdout}`)
      // Every thread is counted in every tick, so there are about three stacks per tick.
      t.true(total(stacks) >= 3 * 10, `${total(stacks)} samples for three threads over 1 s`)
    }
    // A unique prefix of a long option works as with getopt_long.
    const abbreviated = await pyflame(['--thread', '-p', String(target.pid), '-s', '0'])
    t.is(abbreviated.code, 0, abbreviated.stderr)
    t.is(total(parseFolded(abbreviated.stdout)), 3)
  })
})

test('-n writes path:function without line numbers, merging the lines of a function', async (t) => {
  await withProgram(python3.path, 'pyflame_half_sleeper.py', async (target) => {
    const run = await pyflame(['-xn', '-p', String(target.pid), '-s', '1'])
    t.is(run.code, 0, run.stderr)
    const stacks = parseFolded(run.stdout)
    t.true(stacks.size > 0)
    for (const stack of stacks.keys()) for (const frame of stack.split(';')) t.regex(frame, FRAME_WITHOUT_LINE)
    t.true([...stacks.keys()].some((s) => s.endsWith(':toil')), run.stdout)
  })
})

test('--flamechart writes a µs Unix timestamp before every sample, stacks ending in ";", (idle) samples, in time order; -x drops (idle)', async (t) => {
  await withProgram(python3.path, 'pyflame_half_sleeper.py', async (target) => {
    const before = Date.now() * 1000
    const run = await pyflame(['--flamechart', '-p', String(target.pid), '-s', '1'])
    const after = Date.now() * 1000
    t.is(run.code, 0, run.stderr)
    t.is(run.stderr, '')
    t.true(run.stdout.endsWith('\n'))
    const lines = run.stdout.split('\n').slice(0, -1)
    t.true(lines.length >= 4 && lines.length % 2 === 0, `${lines.length} lines`)
    let previous = 0
    let idle = 0
    let toil = 0
    for (let i = 0; i < lines.length; i += 2) {
      t.regex(lines[i], /^\d+$/)
      const time = Number(lines[i])
      t.true(time >= before && time <= after, `timestamp ${time} outside the run [${before}, ${after}]`)
      t.true(time >= previous, 'timestamps go forward')
      previous = time
      const stack = lines[i + 1]
      if (stack === '(idle)') {
        idle += 1
        continue
      }
      t.regex(stack, /^([^;]+:[^:;]+:\d+;)+$/)
      if (/:toil:\d+;$/.test(stack)) toil += 1
    }
    t.true(idle > 0 && toil > 0, `${idle} idle and ${toil} toil samples`)

    const busyOnly = await pyflame(['--flamechart', '-x', '-p', String(target.pid), '-s', '0.5'])
    t.is(busyOnly.code, 0, busyOnly.stderr)
    t.false(busyOnly.stdout.split('\n').includes('(idle)'))
    t.regex(busyOnly.stdout, /^\d+\n[^\n]+;\n/)
  })
})

test('-d prints every thread once under its kernel thread id, * marking the GIL holder, frames innermost first', async (t) => {
  await withProgram(python3.path, 'threads.py', async (target) => {
    const run = await pyflame(['-d', '-p', String(target.pid)])
    t.is(run.code, 0, run.stderr)
    t.is(run.stderr, '')
    const blocks = run.stdout.replace(/\n$/, '').split('\n\n')
    t.is(blocks.length, 4, run.stdout)
    const tasks = new Set(fs.readdirSync(`/proc/${target.pid}/task`))
    let holders = 0
    const leaves = new Set<string>()
    const roots = new Set<string>()
    for (const block of blocks) {
      const [header, ...frames] = block.split('\n')
      const match = /^(\d+)(\*?):$/.exec(header)
      t.truthy(match, `bad thread header ${JSON.stringify(header)}`)
      t.true(tasks.has(match![1]), `${match![1]} is not a thread of ${target.pid}`)
      if (match![2]) holders += 1
      t.true(frames.length > 0)
      for (const frame of frames) t.regex(frame, FRAME)
      leaves.add(frames[0].split(':')[1])
      roots.add(frames[frames.length - 1].split(':')[1])
    }
    t.true(holders <= 1)
    for (const worker of ['worker_alpha', 'worker_beta', 'worker_gamma']) t.true(run.stdout.includes(`:${worker}:`), run.stdout)
    t.true(roots.has('<module>'), 'the main thread ends at <module>')
    t.true(leaves.has('spin') || leaves.has('worker_alpha') || leaves.has('worker_beta') || leaves.has('worker_gamma'))
  })
})

// Serial (ava runs serial tests first, alone): the program must still be alive when pyflame attaches.
test.serial('-s 30 on a program that exits after three seconds: the profile until then, exit 0, silent', async (t) => {
  await withProgram(python3.path, 'pyflame_exits_soon.py', async (target) => {
    const run = await pyflame(['-s', '30', '-p', String(target.pid)])
    t.is(run.code, 0, run.stderr)
    t.is(run.stderr, '')
    t.true(leafCount(parseFolded(run.stdout), 'short_life') > 0, run.stdout)
  })
})

test('--abi takes the target version without its dot; an ABI this build cannot read is refused first', async (t) => {
  const [major, minor] = majorMinor(python3.version)
  await withProgram(python3.path, 'busy.py', async (target) => {
    for (const spelling of [`--abi=${major}${minor}`, `--abi`]) {
      const args = spelling === '--abi' ? ['--abi', `${major}${minor}`] : [spelling]
      const run = await pyflame([...args, '-s', '0.3', '-p', String(target.pid)])
      t.is(run.code, 0, run.stderr)
      t.true(leafCount(parseFolded(run.stdout), 'heavy') + leafCount(parseFolded(run.stdout), 'light') > 0, run.stdout)
    }
  })
  for (const abi of ['0', '26', '34', '399', 'x']) {
    assertFailure(t, await pyflame([`--abi=${abi}`, '-p', '1']), `Unknown or unsupported ABI version: ${abi}\n`, 'ERR_INVALID_ARGUMENT')
  }
})

test('-v prints one line shaped like Pyflame 1.6, its ABI list from the native core', async (t) => {
  const abis = native.supportedPythonVersions().map((v) => v.replace('.', ''))
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }
  for (const flag of ['-v', '--version']) {
    const run = await pyflame([flag])
    t.is(run.code, 0)
    t.is(run.stderr, '')
    t.is(run.stdout, `pyflame ${pkg.version} linux ${os.arch() === 'x64' ? 'x86_64' : 'aarch64'} (ABI list: ${abis.join(' ')})\n`)
    t.regex(run.stdout.trim(), /^pyflame \d+\.\d+\.\d+ (\(commit \w+\) )?\S+ \S+ \(ABI list: .+\)$/)
  }
})

test('-h prints the build line and the usage with every Pyflame option, exit 0', async (t) => {
  for (const flag of ['-h', '--help']) {
    const run = await pyflame([flag, '-p', 'not-even-read'])
    t.is(run.code, 0)
    t.is(run.stderr, '')
    t.regex(run.stdout, /^pyflame \d+\.\d+\.\d+ linux \S+\n\nUsage: pyflame \[options\] \[-p\] PID\n {7}pyflame \[options\] -t command arg1 arg2\.\.\.\n/)
    for (const option of ['--threads', '-d, --dump', '-h, --help', '-n, --no-line-numbers', '-o, --output', '-p, --pid', '-r, --rate', '-s, --seconds', '-t, --trace', '-v, --version', '-x, --exclude-idle', '--abi', '--flamechart']) {
      t.true(run.stdout.includes(option), `help lacks ${option}`)
    }
  }
})

test('-o writes the profile to the file and nothing to stdout; an unwritable -o fails in Pyflame words before sampling', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyflame-o-'))
  try {
    await withProgram(python3.path, 'busy.py', async (target) => {
      const out = path.join(dir, 'profile.txt')
      const run = await pyflame(['-o', out, '-s', '0.3', '-p', String(target.pid)])
      t.is(run.code, 0, run.stderr)
      t.is(run.stdout, '')
      t.true(leafCount(parseFolded(fs.readFileSync(out, 'utf8')), 'heavy') > 0)
      t.deepEqual(fs.readdirSync(dir), ['profile.txt'])

      const bad = await pyflame(['--output=/nonexistent-dir/p.txt', '-s', '5', '-p', String(target.pid)])
      assertFailure(t, bad, 'cannot open file "/nonexistent-dir/p.txt" as output\n', 'ERR_OUTPUT')
    })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('usage failures start with Pyflame\'s wording and end with the error code', async (t) => {
  assertFailure(t, await pyflame([]), 'Usage: pyflame [options] [-p] PID\n', 'ERR_INVALID_ARGUMENT')
  assertFailure(t, await pyflame(['1', '2']), 'Usage: ', 'ERR_INVALID_ARGUMENT')
  assertFailure(t, await pyflame(['foo', 'bar']), 'Usage: ', 'ERR_INVALID_ARGUMENT')
  assertFailure(t, await pyflame(['-p', '1', 'extra']), 'Usage: ', 'ERR_INVALID_ARGUMENT')
  assertFailure(t, await pyflame(['-p', '1', '-t', python3.path, '--version']), 'Options -t and -p are not mutually compatible.\n')
  assertFailure(t, await pyflame(['-d', '-t', python3.path]), 'Options -t and -d are not mutually compatible.\n')
  const noCommand = await pyflame(['-t'])
  assertFailure(t, noCommand, 'Option -t requires a command to run.\n')
  t.true(noCommand.stderr.includes('Usage: '))
  assertFailure(t, await pyflame(['--bogus', '-p', '1']), "pyflame: unrecognized option '--bogus'\nUsage: ")
  assertFailure(t, await pyflame(['-z', '-p', '1']), "pyflame: invalid option -- 'z'\nUsage: ")
  assertFailure(t, await pyflame(['-p']), "pyflame: option requires an argument -- 'p'\n")
  assertFailure(t, await pyflame(['--threads=1', '-p', '1']), "pyflame: option '--threads' doesn't allow an argument\n")
})

test('a PID that is not one fails with "Error: failed to parse"', async (t) => {
  for (const pid of ['-1', '0', String(2n ** 200n), 'not a pid', '12abc']) {
    assertFailure(t, await pyflame(['-p', pid]), `Error: failed to parse "${pid}" as a PID.\n`, 'ERR_INVALID_ARGUMENT')
  }
  // The legacy positional PID goes through the same parser.
  const positional = await pyflame(['abc'])
  assertFailure(t, positional, 'Error: failed to parse "abc" as a PID.\n', 'ERR_INVALID_ARGUMENT')
  t.true(positional.stderr.includes('Usage: '))
})

test('a process that is gone or not Python fails as Pyflame said it', async (t) => {
  assertFailure(t, await pyflame(['-p', '4194000']), 'Failed to seize PID 4194000\n', 'ERR_NO_PROCESS')
  // This test runner is a process, but not a Python one.
  assertFailure(t, await pyflame(['-p', String(process.pid)]), 'Failed to locate libpython', 'ERR_NOT_PYTHON')
  assertFailure(t, await pyflame(['-d', '-p', String(process.pid)]), 'Failed to locate libpython', 'ERR_NOT_PYTHON')
})

test('-t failures: a pyflame, a missing file, a command that never runs Python', async (t) => {
  assertFailure(t, await pyflame(['-t', 'pyflame']), 'You tried to pyflame a pyflame, naughty!\n', 'ERR_INVALID_ARGUMENT')
  assertFailure(t, await pyflame(['-t', '/usr/local/bin/pyflame', '-p', '1']), 'You tried to pyflame a pyflame, naughty!\n')
  assertFailure(t, await pyflame(['-t', '/no/such/file']), 'Child process exited with status: ', 'ERR_NO_PROCESS')
  assertFailure(t, await pyflame(['-t', 'sh', '-c', 'sleep 0.3']), 'Failed to locate libpython', 'ERR_NOT_PYTHON')
})

// Tracing another user's process needs privileges: run pyflame as `nobody` against PID 1.
const dropPrivileges = process.getuid?.() === 0 && fs.existsSync('/usr/bin/setpriv') ? '/usr/bin/setpriv' : undefined
const permissionTest = dropPrivileges ? test : test.skip
permissionTest('without the right to trace a process: "Failed to seize PID" and the permission advice', (t) => {
  let stdout = ''
  let stderr = ''
  let code = 0
  try {
    stdout = execFileSync(dropPrivileges!, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, PYFLAME, '-p', '1'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string }
    ;({ status: code, stdout, stderr } = failed)
  }
  assertFailure(t, { code, signal: null, stdout, stderr }, 'Failed to seize PID 1\n', 'ERR_PERMISSION')
})
