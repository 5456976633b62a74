// Where `pyflame` writes: stdout, or the `-o` path. A regular file is written atomically (a
// failed run leaves no half profile); an existing device or pipe (`-o /dev/stderr`, a FIFO)
// is written in place, since it cannot be replaced by renaming.

import * as fs from 'node:fs'
import { PyflameError } from '../errors'
import { AtomicFile } from '../output'

export interface LegacyDestination {
  write(text: string): void
  commit(): void
  abort(): void
}

export function openDestination(output: string | undefined, stdout: { write(text: string): unknown }): LegacyDestination {
  if (output === undefined || output === '-') return { write: (text) => void stdout.write(text), commit() {}, abort() {} }
  if (isSpecialFile(output)) return new InPlaceFile(output)
  return new AtomicFile(output)
}

function isSpecialFile(file: string): boolean {
  try {
    const stat = fs.statSync(file)
    return !stat.isFile() && !stat.isDirectory()
  } catch {
    return false
  }
}

class InPlaceFile implements LegacyDestination {
  private fd: number | undefined

  constructor(readonly target: string) {
    try {
      this.fd = fs.openSync(target, 'w')
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error)
      throw new PyflameError('ERR_OUTPUT', `cannot write ${target} (${reason}): choose a writable path with -o`, { cause: error })
    }
  }

  write(text: string): void {
    if (this.fd !== undefined) fs.writeSync(this.fd, text)
  }

  commit(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd)
    this.fd = undefined
  }

  abort(): void {
    this.commit()
  }
}
