// Exact sample counts as text. The native merger sums counts exactly (integers as doubles
// while the total stays below 2^53, else big integers scaled by 10^digits, so `0.1 + 0.2` is
// 0.3 and 2^53 + 1 stays odd) and hands exact totals over as decimal integers in drawing units.

/** `value / 10^scale` as a decimal: `25, 1` → `2.5`, trailing fraction zeros removed. */
export function scaledToDecimal(value: bigint | string, scale: number): string {
  const digits = String(value)
  if (scale === 0) return digits
  const negative = digits.startsWith('-')
  const padded = (negative ? digits.slice(1) : digits).padStart(scale + 1, '0')
  const whole = padded.slice(0, padded.length - scale)
  const fraction = padded.slice(padded.length - scale).replace(/0+$/, '')
  return (negative ? '-' : '') + whole + (fraction ? '.' + fraction : '')
}

/** `1234567.5` → `1,234,567.5` (flamegraph.pl groups thousands the same way). */
export function groupThousands(decimal: string): string {
  let point = decimal.indexOf('.')
  if (point === -1) point = decimal.length
  if (point <= 3) return decimal
  let grouped = decimal.slice(0, point % 3 || 3)
  for (let i = point % 3 || 3; i < point; i += 3) grouped += ',' + decimal.slice(i, i + 3)
  return grouped + decimal.slice(point)
}
