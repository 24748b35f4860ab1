/**
 * Hand-written SVG grouped bar chart (no plotting dependency): one panel per op, one group of bars
 * per configuration, one bar per target, log-scale y so 1 KiB and 1 MiB rates share an axis.
 */

export interface BarGroup {
  /** Label lines under the group. */
  label: string[];
  values: Record<string, number>;
  /** Optional note above the group (e.g. the ratio). */
  note?: string;
}

export interface BarPanel {
  title: string;
  groups: BarGroup[];
  /** This panel's y axis label, in place of the chart's. */
  yLabel?: string;
}

export interface BarChart {
  title: string;
  yLabel: string;
  /** Caption under each panel's x axis. */
  xLabel?: string;
  series: string[];
  panels: BarPanel[];
  /** Scale each panel's y axis to its own values (panels of different units). Default: one scale. */
  panelScale?: boolean;
  /** A line under the chart (the machine and date). */
  footer?: string;
}

const PALETTE = ['#8a8f98', '#2b6cb0', '#dd6b20', '#38a169', '#805ad5'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function tick(v: number): string {
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return String(v);
}

/** Decades [lo, hi] of a log axis covering `panels`' values. */
function logRange(panels: readonly BarPanel[]): [number, number] {
  const all = panels.flatMap((p) => p.groups.flatMap((g) => Object.values(g.values))).filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.min(...all, 1e9) || 1));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...all, 1))));
  return [lo, hi];
}

export function barChartSvg(chart: BarChart): string {
  const shared = logRange(chart.panels);
  const maxGroups = Math.max(1, ...chart.panels.map((p) => p.groups.length));
  const barW = 22;
  const groupW = chart.series.length * barW + 34;
  const left = 78;
  const right = 20;
  const plotW = maxGroups * groupW;
  const width = Math.max(560, left + plotW + right);
  const panelH = 300;
  const plotTop = 36; // within a panel: room for the panel title and notes
  const plotH = 200;
  const top = 70; // chart title and legend
  const height = top + chart.panels.length * panelH + 10 + (chart.footer ? 16 : 0);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(chart.title)}</text>`,
  );
  chart.series.forEach((s, i) => {
    const x = left + i * 130;
    out.push(
      `<rect x="${x}" y="38" width="14" height="14" fill="${PALETTE[i % PALETTE.length]}"/>`,
      `<text x="${x + 20}" y="50">${esc(s)}</text>`,
    );
  });
  chart.panels.forEach((panel, pi) => {
    const [lo, hi] = chart.panelScale ? logRange([panel]) : shared;
    const y = (v: number, y0: number) => y0 + plotH - ((Math.log10(v) - lo) / (hi - lo)) * plotH;
    const y0 = top + pi * panelH + plotTop;
    out.push(`<text x="${left}" y="${y0 - 20}" font-size="13" font-weight="bold">${esc(panel.title)}</text>`);
    for (let d = lo; d <= hi; d++) {
      const yy = y(10 ** d, y0);
      out.push(
        `<line x1="${left}" x2="${left + plotW}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`,
        `<text x="${left - 6}" y="${yy + 4}" text-anchor="end">${tick(10 ** d)}</text>`,
      );
    }
    out.push(
      `<line x1="${left}" x2="${left}" y1="${y0}" y2="${y0 + plotH}" stroke="#333"/>`,
      `<line x1="${left}" x2="${left + plotW}" y1="${y0 + plotH}" y2="${y0 + plotH}" stroke="#333"/>`,
      `<text transform="translate(${left - 52},${y0 + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(panel.yLabel ?? chart.yLabel)} (log)</text>`,
    );
    panel.groups.forEach((g, gi) => {
      const gx = left + gi * groupW + 17;
      let topY = y0 + plotH;
      chart.series.forEach((s, si) => {
        const v = g.values[s];
        if (v === undefined || v <= 0) return;
        const by = y(v, y0);
        topY = Math.min(topY, by);
        out.push(
          `<rect x="${gx + si * barW}" y="${by.toFixed(1)}" width="${barW - 3}" height="${(y0 + plotH - by).toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"><title>${esc(s)}: ${Math.round(v)}</title></rect>`,
        );
      });
      const cx = gx + (chart.series.length * barW) / 2;
      if (g.note) out.push(`<text x="${cx}" y="${(topY - 5).toFixed(1)}" text-anchor="middle" font-weight="bold">${esc(g.note)}</text>`);
      g.label.forEach((line, li) =>
        out.push(`<text x="${cx}" y="${y0 + plotH + 15 + li * 13}" text-anchor="middle">${esc(line)}</text>`),
      );
    });
    if (chart.xLabel)
      out.push(
        `<text x="${left + plotW / 2}" y="${y0 + plotH + 46}" text-anchor="middle" fill="#555">${esc(chart.xLabel)}</text>`,
      );
  });
  if (chart.footer) out.push(`<text x="${left}" y="${height - 8}" fill="#555">${esc(chart.footer)}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
