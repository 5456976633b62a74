// Runs the built CLIs (`dist/cli/*.js`) as a user would, capturing everything.

import { spawn } from 'node:child_process'
import * as path from 'node:path'

export const ROOT = path.resolve(__dirname, '..', '..')
export const PYFLAME_TS = path.join(ROOT, 'dist', 'cli', 'pyflame-ts.js')
export const PYFLAME = path.join(ROOT, 'dist', 'cli', 'pyflame.js')

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Kill the run after this many milliseconds (a safety net, not an assertion). */
  killAfterMs?: number
  /** Called with the child once it started (e.g. to send it a signal). */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void
}

export function runNode(script: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: options.cwd ?? ROOT, env: options.env ?? process.env })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 120_000)
    options.onSpawn?.(child)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

export function pyflameTs(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return runNode(PYFLAME_TS, args, options)
}

export function pyflame(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return runNode(PYFLAME, args, options)
}

/** Parses folded text into stack → count, checking every line's shape on the way. */
export function parseFolded(text: string): Map<string, number> {
  const stacks = new Map<string, number>()
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('folded output must end with a newline')
  for (const line of text.split('\n').slice(0, -1)) {
    const match = /^(.+) (\d+)$/.exec(line)
    if (!match) throw new Error(`malformed folded line: ${JSON.stringify(line)}`)
    if (stacks.has(match[1])) throw new Error(`duplicate stack: ${match[1]}`)
    stacks.set(match[1], Number(match[2]))
  }
  return stacks
}

/** Total count of stacks whose leaf frame's function is `fn` (Pyflame labels `path:fn:line`). */
export function leafCount(stacks: Map<string, number>, fn: string): number {
  let total = 0
  for (const [stack, count] of stacks) {
    const leaf = stack.split(';').pop()!
    if (leaf.split(':').slice(-2, -1)[0] === fn || leaf.endsWith(`:${fn}`)) total += count
  }
  return total
}

/** Total count of stacks containing a frame of function `fn` anywhere. */
export function inclusiveCount(stacks: Map<string, number>, fn: string): number {
  let total = 0
  for (const [stack, count] of stacks) {
    if (stack.split(';').some((frame) => frame.split(':').includes(fn))) total += count
  }
  return total
}
