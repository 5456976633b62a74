// A one-shot command's output written straight to file descriptor 1. `process.stdout` is a
// net.Socket on a pipe and a tty.WriteStream on a terminal: creating it loads Node's stream and
// socket modules, about 4 ms of a 35 ms `dump` (bench/startup.mjs). A full non-blocking pipe
// (EAGAIN) hands the rest to process.stdout, which waits for it; a closed pipe (EPIPE, `| head`)
// ends the process quietly, as run.ts does for process.stdout.

import { writeSync } from 'node:fs'

export const stdoutSync = {
  write(text: string): void {
    const bytes = Buffer.from(text)
    let written = 0
    while (written < bytes.length) {
      try {
        written += writeSync(1, bytes, written)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'EAGAIN') {
          process.stdout.write(bytes.subarray(written))
          return
        }
        if (code === 'EPIPE') process.exit(process.exitCode ?? 0)
        throw error
      }
    }
  },
}
