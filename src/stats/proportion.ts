// A frame's share of samples as an estimate: its confidence interval, the test of whether two
// recordings' shares differ, and the smallest change a pair of recordings can show.
//
// The model is binomial: each sample lands in the frame or not, independently, with the
// frame's true share as probability. With sampling times drawn at random (Poisson, the
// default) this holds for any program whose behaviour does not itself change over the
// recording; see ARCHITECTURE.md, "Sampling error", for when it understates the error.

import { normalQuantile, twoSidedP } from './normal'

export interface Interval {
  low: number
  high: number
}

/** The z for a two-sided interval of the given confidence (0.95 → 1.96). */
export function zFor(confidence: number): number {
  return normalQuantile(1 - (1 - confidence) / 2)
}

/**
 * Wilson's score interval for `hits` of `n` samples, as fractions. Unlike the textbook
 * p ± z·√(p(1−p)/n) it stays inside [0, 1] and is not zero-width at 0 or n hits.
 */
export function wilsonInterval(hits: number, n: number, z: number): Interval {
  if (n <= 0) return { low: 0, high: 1 }
  const p = hits / n
  const z2 = z * z
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n)
  const half = ((z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n)))
  // The interval always holds p; rounding at p = 0 or 1 must not put it outside.
  return { low: Math.min(p, Math.max(0, centre - half)), high: Math.max(p, Math.min(1, centre + half)) }
}

/** Half the width of the normal-approximation interval, as a fraction: "60.1 % ± 1.5". */
export function marginOfError(hits: number, n: number, z: number): number {
  if (n <= 0) return 1
  const p = hits / n
  return z * Math.sqrt((p * (1 - p)) / n)
}

export interface ProportionTest {
  /** The z statistic of after − before (pooled variance under "no change"). */
  z: number
  /** Two-sided p-value. */
  p: number
}

/** Two-proportion z-test of `hitsA/nA` against `hitsB/nB`. */
export function twoProportionTest(hitsA: number, nA: number, hitsB: number, nB: number): ProportionTest {
  if (nA <= 0 || nB <= 0) return { z: 0, p: 1 }
  const pooled = (hitsA + hitsB) / (nA + nB)
  const variance = pooled * (1 - pooled) * (1 / nA + 1 / nB)
  const difference = hitsB / nB - hitsA / nA
  if (variance <= 0) return { z: 0, p: difference === 0 ? 1 : 0 }
  const z = difference / Math.sqrt(variance)
  return { z, p: twoSidedP(z) }
}

/**
 * The smallest change of a share near `share` (fraction) that recordings of `nA` and `nB`
 * samples detect with probability `power` in a two-sided test at level `alpha`.
 */
export function detectableChange(share: number, nA: number, nB: number, alpha: number, power: number): number {
  if (nA <= 0 || nB <= 0) return 1
  const p = Math.min(Math.max(share, 1e-9), 1 - 1e-9)
  return (zFor(1 - alpha) + normalQuantile(power)) * Math.sqrt(p * (1 - p) * (1 / nA + 1 / nB))
}

/** Samples needed in each of two equal recordings to detect `change` near `share`. */
export function samplesToDetect(change: number, share: number, alpha: number, power: number): number {
  const p = Math.min(Math.max(share, 1e-9), 1 - 1e-9)
  const k = zFor(1 - alpha) + normalQuantile(power)
  return Math.ceil((2 * k * k * p * (1 - p)) / (change * change))
}
