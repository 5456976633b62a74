// Corrections for testing many frames at once: a diff tests every frame whose share changed,
// and at 5 % each, one in twenty unchanged frames would look significant.

/**
 * Holm's step-down adjustment: p-values to compare with the family-wise level (the chance
 * that any unchanged frame is called significant stays at or below it, whatever the
 * dependence between frames, and parents and children of one stack are very dependent).
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0])
  const adjusted = new Array<number>(m)
  let running = 0
  order.forEach(([p, index], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p))
    adjusted[index] = running
  })
  return adjusted
}
