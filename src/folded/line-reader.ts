// Input arrives as text chunks that hold whole lines: a byte stream is decoded and cut after
// its last '\n' (the unfinished tail waits for the next chunk), lines held in memory are joined
// in batches. The reader then parses lines in place inside each chunk, so a line costs no
// string of its own and no async step: only the chunk and the merged tree live in memory.

import * as fs from 'node:fs'
import { StringDecoder } from 'node:string_decoder'

/** A named input: its text as chunks of whole lines separated by '\n' ('\r\n' allowed). */
export interface NamedSource {
  name: string
  chunks: AsyncIterable<string> | Iterable<string>
}

/** Cuts decoded text at line boundaries. */
export async function* lineChunks(chunks: AsyncIterable<string | Uint8Array>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8')
  let pending = ''
  for await (const chunk of chunks) {
    const text = pending + (typeof chunk === 'string' ? chunk : decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)))
    const last = text.lastIndexOf('\n')
    if (last === -1) {
      pending = text
      continue
    }
    pending = text.slice(last + 1)
    yield text.slice(0, last + 1)
  }
  pending += decoder.end()
  if (pending.length > 0) yield pending
}

const BATCH = 4096

/** Lines given one by one (their own line ends, if any, are dropped), joined in batches. */
export function* batchLines(lines: Iterable<string>): Generator<string> {
  let batch: string[] = []
  for (const line of lines) {
    batch.push(line.endsWith('\n') ? line.slice(0, -1) : line)
    if (batch.length === BATCH) {
      yield batch.join('\n') + '\n'
      batch = []
    }
  }
  if (batch.length > 0) yield batch.join('\n') + '\n'
}

export async function* batchAsyncLines(lines: AsyncIterable<string>): AsyncGenerator<string> {
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
  return { name, chunks: Symbol.asyncIterator in lines ? batchAsyncLines(lines as AsyncIterable<string>) : batchLines(lines as Iterable<string>) }
}

/** Opens a path ('-' = the given stdin), read in 1 MiB chunks. */
export function fileSource(path: string, stdin: NodeJS.ReadableStream = process.stdin): NamedSource {
  const stream = path === '-' ? stdin : fs.createReadStream(path, { highWaterMark: 1 << 20 })
  return { name: path === '-' ? '<stdin>' : path, chunks: lineChunks(stream as AsyncIterable<string | Uint8Array>) }
}
