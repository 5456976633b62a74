// A one-shot command's output written straight to file descriptor 1. `process.stdout` is a
// net.Socket on a pipe and a tty.WriteStream on a terminal: creating it loads Node's stream and
// socket modules, about 4 ms of a 35 ms `dump` (bench/startup.mjs). A full non-blocking pipe
// (EAGAIN) hands the rest, and every later write, to process.stdout, which waits for the reader;
// a closed pipe (EPIPE, `| head`) ends the process quietly, as ./run.ts does for process.stdout.

import { writeSync } from 'node:fs'

let handedOver = false

function endQuietly(): never {
  process.exit(process.exitCode ?? 0)
}

export const stdoutSync = {
  write(text: string): void {
    if (handedOver) {
      process.stdout.write(text)
      return
    }
    const bytes = Buffer.from(text)
    let written = 0
    while (written < bytes.length) {
      try {
        written += writeSync(1, bytes, written)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'EPIPE') endQuietly()
        if (code !== 'EAGAIN') throw error
        handedOver = true
        process.stdout.on('error', (streamError: NodeJS.ErrnoException) => {
          if (streamError.code === 'EPIPE') endQuietly()
          throw streamError
        })
        process.stdout.write(bytes.subarray(written))
        return
      }
    }
  },
}
