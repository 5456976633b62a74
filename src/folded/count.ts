// Exact sample counts. Folded counts are usually small integers, summed as doubles (exact while
// the total stays below 2^53). A fractional count, or one too large for a double, switches the
// column to bigints scaled by 10^digits, so `0.1 + 0.2` is 0.3 and 2^53 + 1 stays odd.

export interface ParsedCount {
  /** The value when it is an integer no larger than Number.MAX_SAFE_INTEGER, else -1. */
  small: number
  /** Digits after the decimal point. */
  digits: number
  /** The count times 10^digits, only when `small` is -1. */
  scaled: bigint
}

const COUNT = /^(\d+)(?:\.(\d*))?$/

/** Parses a folded count token (`12`, `0.5`, `3.`), or returns undefined. */
export function parseCount(token: string): ParsedCount | undefined {
  return parseCountAt(token, 0, token.length)
}

/** parseCount on text[start, end), without slicing in the common case (up to 15 digits). */
export function parseCountAt(text: string, start: number, end: number): ParsedCount | undefined {
  if (end - start <= 15 && end > start) {
    let value = 0
    let i = start
    for (; i < end; i++) {
      const digit = text.charCodeAt(i) - 48
      if (digit < 0 || digit > 9) break
      value = value * 10 + digit
    }
    if (i === end) return { small: value, digits: 0, scaled: 0n }
  }
  const token = text.slice(start, end)
  const match = COUNT.exec(token)
  if (!match) return undefined
  const fraction = (match[2] ?? '').replace(/0+$/, '')
  const scaled = BigInt(match[1] + fraction)
  if (fraction.length === 0 && scaled <= BigInt(Number.MAX_SAFE_INTEGER)) return { small: Number(scaled), digits: 0, scaled: 0n }
  return { small: -1, digits: fraction.length, scaled }
}

const GROWTH = 1.5

/** Per-node sample sums for one column (samples, or "before" in a differential). */
export class CountColumn {
  private small = new Float64Array(1024)
  private big: bigint[] | undefined
  /** Decimal digits kept in exact mode: values are in units of 10^-scale. */
  private scale = 0
  private totalSmall = 0

  get exact(): boolean {
    return this.big !== undefined
  }

  /** Adds `count` to every node of `path[0..length)`; node ids are below `nodes`. */
  addPath(path: Int32Array, length: number, count: ParsedCount, nodes: number): void {
    if (!this.big && count.small >= 0 && this.totalSmall + count.small <= Number.MAX_SAFE_INTEGER) {
      this.totalSmall += count.small
      const values = this.ensure(nodes)
      const small = count.small
      for (let i = 0; i < length; i++) values[path[i]] += small
      return
    }
    const big = this.toExact()
    if (count.digits > this.scale) this.rescale(count.digits)
    const value = count.small >= 0 ? BigInt(count.small) * 10n ** BigInt(this.scale) : count.scaled * 10n ** BigInt(this.scale - count.digits)
    for (let i = 0; i < length; i++) big[path[i]] = (big[path[i]] ?? 0n) + value
  }

  private ensure(nodes: number): Float64Array {
    if (nodes > this.small.length) {
      const grown = new Float64Array(Math.max(nodes, Math.ceil(this.small.length * GROWTH)))
      grown.set(this.small)
      this.small = grown
    }
    return this.small
  }

  private toExact(): bigint[] {
    if (this.big) return this.big
    const big: bigint[] = []
    for (let i = 0; i < this.small.length; i++) if (this.small[i] !== 0) big[i] = BigInt(this.small[i])
    this.big = big
    return big
  }

  private rescale(digits: number): void {
    const factor = 10n ** BigInt(digits - this.scale)
    const big = this.big!
    for (let i = 0; i < big.length; i++) if (big[i] !== undefined) big[i] *= factor
    this.scale = digits
  }

  /** The node's count in drawing units (exact in double mode, scaled by 10^scale in exact mode). */
  units(node: number): number {
    if (this.big) return Number(this.big[node] ?? 0n)
    return node < this.small.length ? this.small[node] : 0
  }

  /** The node's count as an exact integer string in drawing units (for `fg:` attributes). */
  unitsText(node: number): string {
    if (this.big) return String(this.big[node] ?? 0n)
    return String(node < this.small.length ? this.small[node] : 0)
  }

  /** The exact count as a decimal string, e.g. `2.5` or `9007199254740993`. */
  decimal(node: number): string {
    if (!this.big) return String(node < this.small.length ? this.small[node] : 0)
    return scaledToDecimal(this.big[node] ?? 0n, this.scale)
  }

  /** How many drawing units one sample is (10^scale). */
  get unitsPerSample(): number {
    return 10 ** this.scale
  }
}

export function scaledToDecimal(value: bigint, scale: number): string {
  if (scale === 0) return String(value)
  const negative = value < 0n
  const digits = String(negative ? -value : value).padStart(scale + 1, '0')
  const whole = digits.slice(0, digits.length - scale)
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '')
  return (negative ? '-' : '') + whole + (fraction ? '.' + fraction : '')
}

/** `1234567.5` → `1,234,567.5` (flamegraph.pl groups thousands the same way). */
export function groupThousands(decimal: string): string {
  const point = decimal.indexOf('.')
  const whole = point === -1 ? decimal : decimal.slice(0, point)
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return point === -1 ? grouped : grouped + decimal.slice(point)
}
