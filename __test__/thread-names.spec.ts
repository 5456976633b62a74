// Threads are shown by the names Python gives them (`threading.Thread(name=...)`, `MainThread`)
// in `dump` (text and JSON), `record --threads --thread-labels`, `top` and the Node API, on
// every interpreter present; threads Python does not know keep the kernel's name.

import test from 'ava'
import * as path from 'node:path'
import { dump, sample } from '../src'
import type { DumpResult } from '../src/dump'
import { parseFolded, pyflameTs, ROOT } from './helpers/cli'
import { findAllPythons, findNewestPythons, newestPythonsDir, spawnPython } from './helpers/pythons'

const PROGRAM = path.join(ROOT, '__test__', 'programs', 'named_threads.py')

// Every interpreter present: pyenv's and Debian's, then scripts/pythons/fetch.sh's newest
// (3.14 and 3.15 in release, debug and non-PIE shapes, free-threaded 3.13t).
const pythons = findAllPythons()
for (const name of findNewestPythons().missing) {
  test.skip(`${name}: not in ${newestPythonsDir()} (scripts/pythons/fetch.sh could not fetch or build it)`, () => {})
}
const NAMES = ['MainThread', 'worker-a', 'worker-b', 'renamed-c']

test('interpreters to name threads on', (t) => {
  t.true(pythons.length > 0)
})

for (const python of pythons) {
  test.serial(`[${python.label}] threads carry their Python names in dump, record, top and the API`, async (t) => {
    const target = await spawnPython(python.path, PROGRAM)
    try {
      // "ready MainThread=<ident> worker-a=<ident> ...": the program's own idents.
      const ready = target.stdout().split('\n').find((l) => l.startsWith('ready'))!
      const idents = new Map(ready.split(' ').slice(1).map((pair) => pair.split('=') as [string, string]))
      t.deepEqual([...idents.keys()].sort(), [...NAMES].sort())
      const pid = String(target.pid)

      const run = await pyflameTs(['dump', '-p', pid, '--json'])
      t.is(run.code, 0, run.stderr)
      const result = JSON.parse(run.stdout) as DumpResult
      for (const [name, ident] of idents) {
        const thread = result.threads.find((th) => th.pythonThreadId === ident)
        t.is(thread?.name, name, `dump --json: thread ${ident}`)
        // The kernel's name is the interpreter's (Python threads do not set it before 3.14).
        t.truthy(thread?.kernelName)
      }
      const main = result.threads.find((th) => th.name === 'MainThread')
      t.is(main?.tid, target.pid, 'MainThread is the process leader')

      const text = await pyflameTs(['dump', '-p', pid])
      t.is(text.code, 0, text.stderr)
      for (const name of NAMES) t.regex(text.stdout, new RegExp(`^Thread \\d+ "${name}" \\(`, 'm'))

      const recorded = await pyflameTs(['record', '-p', pid, '-s', '0.5', '-r', '0.01', '--threads', '--thread-labels'])
      t.is(recorded.code, 0, recorded.stderr)
      const roots = new Set([...parseFolded(recorded.stdout).keys()].map((stack) => stack.split(';')[0]))
      for (const name of NAMES) t.true([...roots].some((root) => new RegExp(`^thread \\d+ \\(${name}\\)$`).test(root)), `record: ${name} in ${[...roots].join(', ')}`)

      const top = await pyflameTs(['top', '-p', pid, '--threads', '--idle', '--refresh', '0.5', '--once'])
      t.is(top.code, 0, top.stderr)
      t.regex(top.stdout, /Threads: 4 \(/)
      for (const name of NAMES) t.true(top.stdout.includes(name), `top names ${name}`)

      // The Node API (this process is the target's parent: read without pausing).
      const api = await dump(target.pid, { blocking: false })
      t.deepEqual(api.threads.map((th) => th.name).sort(), [...NAMES].sort())
      const profile = await sample({ pid: target.pid, seconds: 0.3, rate: 0.01 })
      t.deepEqual([...new Set(profile.raw.threads.map((th) => th.name))].sort(), [...NAMES].sort())
    } finally {
      await target.kill()
    }
  })
}

test.serial('a thread Python does not know keeps the kernel name', async (t) => {
  // A thread started from C (ctypes + pthread_create is not portable here): the `_thread`
  // module's bare start_new_thread registers nothing in `threading._active`.
  const python = pythons.find((p) => !p.version.startsWith('2.')) ?? pythons[0]
  if (!python) return t.fail('no interpreter')
  const code = [
    'import sys, time, threading, ctypes, ctypes.util',
    'import _thread',
    'def bare():',
    '    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")',
    '    libc.prctl(15, ctypes.c_char_p(b"bare-kernel"), 0, 0, 0)',
    '    while True: time.sleep(5)',
    '_thread.start_new_thread(bare, ())',
    'time.sleep(0.2)',
    'sys.stdout.write("ready\\n"); sys.stdout.flush()',
    'while True: time.sleep(5)',
  ].join('\n')
  const target = await spawnPython(python.path, '', ['-c', code])
  try {
    const result = await dump(target.pid, { blocking: false })
    const names = result.threads.map((th) => th.name).sort()
    t.true(names.includes('bare-kernel'), JSON.stringify(names))
    t.true(names.includes('MainThread'), JSON.stringify(names))
  } finally {
    await target.kill()
  }
})
