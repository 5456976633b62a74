// Buffered, back-pressured output: text is gathered into ~256 KiB chunks and handed to a
// stream (waiting for 'drain' when it is full) or to a callback, so memory stays bounded
// whatever the number of frames.

export type Output = NodeJS.WritableStream | { write(chunk: string): unknown } | ((chunk: string) => void)

const CHUNK = 256 * 1024

export class ChunkedWriter {
  private parts: string[] = []
  private size = 0
  bytes = 0

  constructor(private readonly output: Output) {}

  write(text: string): void | Promise<void> {
    this.parts.push(text)
    this.size += text.length
    if (this.size >= CHUNK) return this.flush()
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return
    const chunk = this.parts.join('')
    this.parts = []
    this.size = 0
    this.bytes += Buffer.byteLength(chunk)
    if (typeof this.output === 'function') {
      this.output(chunk)
      return
    }
    const stream = this.output as NodeJS.WritableStream
    const ok = stream.write(chunk)
    if (ok === false && typeof stream.once === 'function') await new Promise<void>((resolve) => stream.once('drain', () => resolve()))
  }
}
