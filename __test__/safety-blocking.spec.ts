// Blocking mode never leaves the target stopped: a `record --blocking` at 1 kHz against a
// multi-threaded CPU-bound program is interrupted at random moments by SIGINT, SIGTERM,
// SIGHUP and SIGKILL, and a Node process using the API throws while recording. After each
// fault, every thread of the target must be running (not t/T, not traced, no zombies) and
// the target must keep counting. Ctrl-C/SIGTERM/SIGHUP must still write a complete profile;
// SIGKILL must leave no partial file behind.

import test from 'ava'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ROOT, pyflameTs, runNode } from './helpers/cli'
import { spawnPython } from './helpers/pythons'
import { PROGRAMS, harmedTasks, isCompleteFolded, newestPython3, progressAfter, sleep, waitTraced } from './safety-support'
import { signalExitStatus } from '../src/record-flow'

const python = newestPython3()

/** Seeded so a failure can be replayed: delays come from this generator. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 0x1_0000_0000
  }
}

type Fault = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'SIGKILL' | 'node-throws'
const FAULTS: Fault[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGKILL', 'node-throws']
const ROUNDS = Number(process.env.SAFETY_ROUNDS ?? 3)

;(python ? test.serial : test.serial.skip)('blocking and --native recordings interrupted at random points never leave the target stopped', async (t) => {
  t.timeout(110_000)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyflame-safety-'))
  const counter = path.join(dir, 'counter')
  const target = await spawnPython(python.path, path.join(PROGRAMS, 'safety_progress.py'), [counter])
  const random = rng(Number(process.env.SAFETY_SEED ?? 20261125))
  const tally = { injected: 0, survived: 0, profilesWritten: 0, partialFilesLeft: 0 }
  try {
    t.true((await progressAfter(counter)) > 0, 'the target counts before any recording')
    for (let round = 0; round < ROUNDS; round++) {
      // Odd rounds unwind native stacks too (--native pauses the threads the same way).
      const native = round % 2 === 1
      for (const fault of FAULTS) {
        // The fault comes at a random moment after the recording has seized the threads.
        const delay = Math.floor(random() * 500)
        const faultAfterSeize = (fire: () => void) => void waitTraced(target.pid).then((traced) => setTimeout(fire, traced ? delay : 0))
        const out = path.join(dir, `profile-${round}-${fault}.txt`)
        let exitCode: number | null
        if (fault === 'node-throws') {
          const script = [
            `const { startRecording } = require(${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))})`,
            `const handle = startRecording({ pid: ${target.pid}, seconds: 30, rate: 0.001, blocking: true, native: ${native} })`,
            `handle.done.catch(() => {})`,
            `process.on('SIGUSR2', () => setTimeout(() => { throw new Error('injected fault: the host application throws') }, ${delay}))`,
          ].join('\n')
          const file = path.join(dir, 'throws.js')
          fs.writeFileSync(file, script)
          const run = await runNode(file, [], { killAfterMs: 30_000, onSpawn: (child) => faultAfterSeize(() => child.kill('SIGUSR2')) })
          exitCode = run.code
          t.regex(run.stderr, /injected fault/, 'the host died of its exception')
        } else {
          const run = await pyflameTs(['record', '-p', String(target.pid), native ? '--native' : '--blocking', '-r', '0.001', '-s', '30', '-o', out], {
            killAfterMs: 30_000,
            onSpawn: (child) => faultAfterSeize(() => child.kill(fault)),
          })
          exitCode = run.code
          if (fault === 'SIGKILL') {
            t.is(run.signal, 'SIGKILL')
            // No output at all rather than a partial one (the write is atomic).
            if (fs.existsSync(out)) tally.partialFilesLeft += 1
            t.false(fs.existsSync(out), 'SIGKILL leaves no partial profile')
          } else {
            // The profile is written, then the shell's status for the signal (130, 143, 129).
            t.is(run.code, signalExitStatus(fault), `${fault}: ${run.stderr}`)
            const text = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : ''
            t.true(isCompleteFolded(text), `${fault} after ${delay} ms: the profile is written and complete`)
            if (isCompleteFolded(text)) tally.profilesWritten += 1
          }
        }
        tally.injected += 1
        // The kernel detaches asynchronously when the tracer dies: give it a moment.
        let harmed = harmedTasks(target.pid)
        for (let i = 0; i < 40 && harmed.length > 0; i++) {
          await sleep(25)
          harmed = harmedTasks(target.pid)
        }
        const progressed = await progressAfter(counter)
        const mode = native ? '--native' : '--blocking'
        t.deepEqual(harmed, [], `${mode} ${fault} after ${delay} ms (exit ${exitCode}): threads left stopped/traced/zombie`)
        t.true(progressed > 0, `${mode} ${fault} after ${delay} ms: the target keeps counting`)
        if (harmed.length === 0 && progressed > 0) tally.survived += 1
      }
    }
    t.log(`faults injected (--blocking and --native): ${tally.injected}, target unharmed after: ${tally.survived}, profiles written on SIGINT/SIGTERM/SIGHUP: ${tally.profilesWritten}, partial files after SIGKILL: ${tally.partialFilesLeft}`)
    t.is(tally.survived, tally.injected)
    // No temporary file of an interrupted atomic write may be left next to the outputs (counter.tmp
    // is the target's own, written while it runs).
    const litter = fs.readdirSync(dir).filter((f) => !/^profile-\d+-\w+\.txt$/.test(f) && f !== 'counter' && f !== 'counter.tmp' && f !== 'throws.js')
    // SIGKILL cannot be handled: the temporary file opened before sampling (so an unwritable
    // path fails first) stays behind. It never replaces a profile; report how many.
    const killedLitter = litter.filter((f) => f.includes('SIGKILL'))
    if (killedLitter.length > 0) t.log(`temporary files left by SIGKILLed recordings: ${killedLitter.length} (${killedLitter[0]})`)
    t.deepEqual(
      litter.filter((f) => !f.includes('SIGKILL')),
      [],
      'no temporary files left behind by handled faults',
    )
  } finally {
    await target.kill()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

;(python ? test.serial : test.serial.skip)('a signal sent to the target during a blocking recording still reaches it', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyflame-safety-'))
  const counter = path.join(dir, 'counter')
  const target = await spawnPython(python.path, path.join(PROGRAMS, 'safety_progress.py'), [counter])
  try {
    const exited = new Promise<string | null>((resolve) => target.child.once('exit', (_code, signal) => resolve(signal)))
    const recording = pyflameTs(['record', '-p', String(target.pid), '--blocking', '-r', '0.001', '-s', '5', '-o', path.join(dir, 'p.txt')], { killAfterMs: 30_000 })
    t.true(await waitTraced(target.pid), 'the blocking recording seized the target')
    await sleep(300)
    process.kill(target.pid, 'SIGTERM')
    const signal = await Promise.race([exited, sleep(10_000).then(() => 'still running')])
    t.is(signal, 'SIGTERM', 'the SIGTERM sent while traced was delivered, not swallowed')
    const run = await recording
    t.is(run.code, 0, run.stderr)
    t.true(isCompleteFolded(fs.readFileSync(path.join(dir, 'p.txt'), 'utf8')), 'the profile up to the exit is written')
  } finally {
    await target.kill()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

;(python ? test.serial : test.serial.skip)('the temporary file of a SIGKILLed recording is removed by the next recording to the same path', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyflame-safety-'))
  const counter = path.join(dir, 'counter')
  const target = await spawnPython(python.path, path.join(PROGRAMS, 'safety_progress.py'), [counter])
  const out = path.join(dir, 'profile.txt')
  // the profiler's temporaries only (the target keeps its own counter.tmp in the same folder)
  const temporaries = () => fs.readdirSync(dir).filter((f) => f.startsWith('.profile.txt.') && f.endsWith('.tmp'))
  try {
    const killed = await pyflameTs(['record', '-p', String(target.pid), '-r', '0.001', '-s', '30', '-o', out], {
      killAfterMs: 30_000,
      onSpawn: (child) => {
        // killed once sampling runs, i.e. after the temporary file was opened
        const poll = setInterval(() => {
          if (temporaries().length > 0) {
            clearInterval(poll)
            setTimeout(() => child.kill('SIGKILL'), 200)
          }
        }, 20)
        child.once('exit', () => clearInterval(poll))
      },
    })
    t.is(killed.signal, 'SIGKILL')
    t.false(fs.existsSync(out), 'no partial profile')
    t.is(temporaries().length, 1, 'SIGKILL cannot be handled: its temporary file stays for now')
    const next = await pyflameTs(['record', '-p', String(target.pid), '-r', '0.001', '-s', '0.3', '-o', out], { killAfterMs: 30_000 })
    t.is(next.code, 0, next.stderr)
    t.true(isCompleteFolded(fs.readFileSync(out, 'utf8')), 'the next recording wrote its profile')
    t.deepEqual(temporaries(), [], "the dead writer's temporary file was removed")
  } finally {
    await target.kill()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
