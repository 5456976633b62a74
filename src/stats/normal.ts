// The standard normal distribution: the tail probabilities and quantiles that the share
// statistics need. Written here rather than taken from @stdlib (which has them): its two
// packages pull in 148 modules, 16 MB, and take ~200 ms to load, for two functions.

/**
 * erfc(x) by the Chebyshev fit of Press et al., Numerical Recipes §6.2 (fractional error
 * below 1.2e-7 everywhere): ample for p-values compared with thresholds of 1e-2 to 1e-6.
 */
export function erfc(x: number): number {
  const z = Math.abs(x)
  const t = 1 / (1 + 0.5 * z)
  const poly =
    -z * z -
    1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
  const value = t * Math.exp(poly)
  return x >= 0 ? value : 2 - value
}

/** P(Z ≤ z) for a standard normal Z. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2)
}

/** P(|Z| ≥ |z|): the two-sided p-value of a z statistic. */
export function twoSidedP(z: number): number {
  return erfc(Math.abs(z) / Math.SQRT2)
}

/** The z with P(Z ≤ z) = p, by bisection on `normalCdf` (called a few times per run). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`a probability strictly between 0 and 1 is needed, got ${p}`)
  let lo = -40
  let hi = 40
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2
    if (normalCdf(mid) < p) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}
