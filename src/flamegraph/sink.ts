// Buffered, back-pressured output: text is encoded straight into ~256 KiB byte chunks, handed
// to a stream (waiting for 'drain' when it is full) or, as text, to a callback or a plain
// writer, so memory stays bounded whatever the number of frames.

export type Output = NodeJS.WritableStream | { write(chunk: string): unknown } | ((chunk: string) => void)

const CHUNK = 256 * 1024

export class ChunkedWriter {
  private buffer = Buffer.allocUnsafe(CHUNK)
  private used = 0
  bytes = 0

  constructor(private readonly output: Output) {}

  write(text: string): void | Promise<void> {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if (this.used + text.length * 3 > this.buffer.length) {
      if (text.length * 3 > CHUNK) return this.flush().then(() => this.send(Buffer.from(text)))
      return this.flush().then(() => this.write(text))
    }
    this.used += this.buffer.write(text, this.used)
  }

  async flush(): Promise<void> {
    if (this.used === 0) return
    const bytes = this.buffer.subarray(0, this.used)
    // A stream may hold on to what it was given: the next chunk goes to a new buffer.
    this.buffer = Buffer.allocUnsafe(CHUNK)
    this.used = 0
    await this.send(bytes)
  }

  private async send(bytes: Buffer): Promise<void> {
    this.bytes += bytes.length
    const output = this.output
    if (typeof output === 'function') return output(bytes.toString())
    if (!('once' in output)) return void output.write(bytes.toString())
    const stream = output as NodeJS.WritableStream
    if (stream.write(bytes) === false) await new Promise<void>((resolve) => stream.once('drain', () => resolve()))
  }
}
