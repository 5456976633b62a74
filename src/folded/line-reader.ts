// Input arrives as chunks cut anywhere: bytes from a file or stdin, handed to the native
// merger undecoded (it splits lines itself, and a line may straddle two chunks), or lines held
// in memory, joined in batches. Only the current chunk and the merged tree live in memory.
// A chunk may be reused once the next one is asked for: consume each before going on.

import * as fs from 'node:fs'

/** A named input: its folded text as chunks (bytes, or strings of whole lines). */
export interface NamedSource {
  name: string
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>
}

const BATCH = 4096

/** Lines given one by one (their own line ends, if any, are dropped), joined in batches. */
export async function* batchLines(lines: Iterable<string> | AsyncIterable<string>): AsyncGenerator<string> {
  let batch: string[] = []
  for await (const line of lines) {
    batch.push(line.endsWith('\n') ? line.slice(0, -1) : line)
    if (batch.length === BATCH) {
      yield batch.join('\n') + '\n'
      batch = []
    }
  }
  if (batch.length > 0) yield batch.join('\n') + '\n'
}

/** Lines in memory (sync or async) as a source. */
export function linesSource(lines: Iterable<string> | AsyncIterable<string>, name = '<input>'): NamedSource {
  return { name, chunks: batchLines(lines) }
}

const CHUNK = 4 << 20

/**
 * A file's bytes in 4 MiB chunks read into one reused buffer: each chunk is valid only until
 * the next is asked for (the merger keeps only copies: new names, an unfinished line), and no
 * memory is allocated per chunk (fresh buffers cost page faults and GC on a 2 GB input).
 */
async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  const file = await fs.promises.open(path, 'r')
  try {
    const buffer = Buffer.allocUnsafe(CHUNK)
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, CHUNK, null)
      if (bytesRead === 0) return
      yield buffer.subarray(0, bytesRead)
    }
  } finally {
    await file.close()
  }
}

/** Opens a path ('-' = the given stdin). */
export function fileSource(path: string, stdin: NodeJS.ReadableStream = process.stdin): NamedSource {
  if (path === '-') return { name: '<stdin>', chunks: stdin as AsyncIterable<Uint8Array | string> }
  return { name: path, chunks: fileChunks(path) }
}
