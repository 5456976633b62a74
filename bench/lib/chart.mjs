// A grouped bar chart (log scale) of CPU µs per sample by target and profiler, as standalone SVG.

const COLORS = ['#d9480f', '#f08c00', '#1971c2', '#4dabf7', '#2f9e44', '#7048e8', '#868e96'];
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** groups: [{ label, bars: [{ series, value, min, max }] }]; series: names in legend order. */
export function barChartSvg({ title, unit, groups, series }) {
  const width = 960;
  const height = 460;
  const margin = { left: 70, right: 20, top: 50, bottom: 120 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const values = groups.flatMap((g) => g.bars.flatMap((b) => [b.value, b.max])).filter((v) => v > 0 && Number.isFinite(v));
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  const y = (v) => margin.top + plotH - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotH;
  const groupW = plotW / groups.length;
  const barW = Math.min(28, (groupW - 16) / series.length);
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="16">${esc(title)}</text>`);
  for (let decade = lo; decade <= hi; decade *= 10) {
    const yy = y(decade).toFixed(1);
    out.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${yy}" y2="${yy}" stroke="#dee2e6"/>`);
    out.push(`<text x="${margin.left - 6}" y="${yy}" dy="4" text-anchor="end">${decade}</text>`);
  }
  out.push(`<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(unit)} (log scale)</text>`);
  groups.forEach((group, gi) => {
    const x0 = margin.left + gi * groupW + (groupW - barW * series.length) / 2;
    series.forEach((name, si) => {
      const bar = group.bars.find((b) => b.series === name);
      if (!bar || !(bar.value > 0)) return;
      const x = x0 + si * barW;
      const top = y(bar.value);
      out.push(`<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(margin.top + plotH - top).toFixed(1)}" fill="${COLORS[si % COLORS.length]}"><title>${esc(`${name}, ${group.label}: ${bar.value.toFixed(1)} ${unit}`)}</title></rect>`);
      if (bar.min > 0 && bar.max > 0) {
        const cx = (x + (barW - 2) / 2).toFixed(1);
        out.push(`<line x1="${cx}" x2="${cx}" y1="${y(bar.max).toFixed(1)}" y2="${y(bar.min).toFixed(1)}" stroke="#212529"/>`);
      }
      const label = bar.value >= 100 ? bar.value.toFixed(0) : bar.value.toFixed(1);
      out.push(`<text x="${(x + (barW - 2) / 2).toFixed(1)}" y="${(top - 4).toFixed(1)}" text-anchor="middle" font-size="9">${label}</text>`);
    });
    out.push(`<text x="${(margin.left + gi * groupW + groupW / 2).toFixed(1)}" y="${margin.top + plotH + 16}" text-anchor="middle">${esc(group.label)}</text>`);
  });
  series.forEach((name, si) => {
    const col = si % 3;
    const row = Math.floor(si / 3);
    const x = margin.left + col * 290;
    const yy = height - 70 + row * 20;
    out.push(`<rect x="${x}" y="${yy - 10}" width="12" height="12" fill="${COLORS[si % COLORS.length]}"/><text x="${x + 18}" y="${yy}">${esc(name)}</text>`);
  });
  out.push(`<text x="${margin.left}" y="${height - 12}" fill="#495057">median of repetitions; whiskers: min–max</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
