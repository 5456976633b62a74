// Where a profile goes: format from the extension, atomic file writes, default file names.

import * as fs from 'node:fs'
import * as path from 'node:path'
import { PyflameError } from './errors'

export const FORMATS = ['folded', 'svg', 'html', 'speedscope', 'chrometrace', 'pprof'] as const
export type Format = (typeof FORMATS)[number]

const EXTENSIONS: Record<Format, string> = {
  folded: 'txt',
  svg: 'svg',
  html: 'html',
  speedscope: 'speedscope.json',
  chrometrace: 'trace.json',
  pprof: 'pb.gz',
}

/** The format for an output path, from its extension; folded when nothing matches. */
export function formatFromPath(file: string | undefined): Format {
  const name = (file ?? '').toLowerCase()
  if (name.endsWith('.svg')) return 'svg'
  if (name.endsWith('.html') || name.endsWith('.htm')) return 'html'
  if (name.endsWith('.speedscope.json') || name.endsWith('.speedscope')) return 'speedscope'
  if (name.endsWith('.trace.json') || name.endsWith('.chrometrace.json') || name.endsWith('.chrome.json')) return 'chrometrace'
  if (name.endsWith('.json')) return 'speedscope'
  if (name.endsWith('.pb.gz') || name.endsWith('.pprof') || name.endsWith('.pb')) return 'pprof'
  return 'folded'
}

export function parseFormat(value: string): Format {
  const normalized = value.toLowerCase().replace(/^flamegraph$/, 'svg').replace(/^raw$/, 'folded').replace(/^report$/, 'html')
  if ((FORMATS as readonly string[]).includes(normalized)) return normalized as Format
  throw new PyflameError('ERR_INVALID_ARGUMENT', `unknown format "${value}": use one of ${FORMATS.join(', ')}`)
}

/** `pyflame-<pid>-<YYYYMMDDTHHMMSS>.<ext>` in the current directory. */
export function defaultFileName(pid: number, format: Format, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '')
  return `pyflame-${pid}-${stamp}.${EXTENSIONS[format]}`
}

/**
 * A file written atomically: data goes to a temporary file beside the target, which is
 * renamed over it on commit. The temporary file is created at once, so an unwritable
 * destination is reported before any sampling work is done.
 */
export class AtomicFile {
  readonly tempPath: string
  private fd: number | undefined

  constructor(readonly target: string) {
    const dir = path.dirname(path.resolve(target))
    this.tempPath = path.join(dir, `.${path.basename(target)}.${process.pid}.tmp`)
    try {
      if (fs.existsSync(target) && fs.statSync(target).isDirectory()) {
        throw Object.assign(new Error(`${target} is a directory`), { code: 'EISDIR' })
      }
      this.fd = fs.openSync(this.tempPath, 'w', 0o644)
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error)
      throw new PyflameError('ERR_OUTPUT', `cannot write ${target} (${reason}): choose a writable path with -o`, { cause: error })
    }
    removeStaleTemporaries(dir, path.basename(target))
  }

  write(chunk: string | Uint8Array): void {
    if (this.fd === undefined) throw new PyflameError('ERR_INTERNAL', 'write after commit')
    if (typeof chunk === 'string') fs.writeSync(this.fd, chunk)
    else fs.writeSync(this.fd, chunk)
  }

  /** Flushes and renames the temporary file over the target. */
  commit(): void {
    if (this.fd === undefined) return
    fs.fsyncSync(this.fd)
    fs.closeSync(this.fd)
    this.fd = undefined
    fs.renameSync(this.tempPath, this.target)
  }

  /** Removes the temporary file; the target is left untouched. */
  abort(): void {
    if (this.fd !== undefined) {
      fs.closeSync(this.fd)
      this.fd = undefined
    }
    fs.rmSync(this.tempPath, { force: true })
  }
}

/**
 * A writer killed with SIGKILL cannot remove its temporary file. The next write to the same
 * target removes those whose writer process no longer exists (`.NAME.PID.tmp`).
 */
function removeStaleTemporaries(dir: string, base: string): void {
  const prefix = `.${base}.`
  let entries: string[]
  try {
    entries = fs.readdirSync(dir)
  } catch {
    return
  }
  for (const entry of entries) {
    if (!entry.startsWith(prefix) || !entry.endsWith('.tmp')) continue
    const pid = Number(entry.slice(prefix.length, -'.tmp'.length))
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || processExists(pid)) continue
    fs.rmSync(path.join(dir, entry), { force: true })
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
