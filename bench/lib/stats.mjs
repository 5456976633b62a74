// Small statistics helpers: every figure is reported as median and spread (min–max) of repetitions.

export function median(values) {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
}

export function summarize(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  return {
    median: median(finite),
    min: finite.length ? Math.min(...finite) : NaN,
    max: finite.length ? Math.max(...finite) : NaN,
    n: finite.length,
    values,
  };
}

/** Least-squares slope of y over x (CPU seconds over sample counts): the per-sample cost without the fixed startup cost. */
export function slope(points) {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** Median and interquartile range (linear interpolation between order statistics). */
export function quartiles(values) {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const at = (p) => {
    if (xs.length === 0) return NaN;
    const i = p * (xs.length - 1);
    const lo = Math.floor(i);
    return xs[lo] + (xs[Math.min(lo + 1, xs.length - 1)] - xs[lo]) * (i - lo);
  };
  return { q1: at(0.25), median: at(0.5), q3: at(0.75), n: xs.length };
}
