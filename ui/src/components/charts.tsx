// Hand-rolled SVG charts (no chart library): a line/area chart for trends and horizontal bars for rankings.
import { formatNumber } from "../i18n";

export interface Point {
  label: string;
  /** null: nothing to measure in this bucket (e.g. a success rate in an hour without calls): a gap, not 0 */
  value: number | null;
}

/** The scale's top: the largest value (so small totals such as 0.002 credits still rise), 1 when all are 0. */
export function chartMax(values: number[]): number {
  const top = Math.max(0, ...values);
  return top > 0 ? top : 1;
}

/** Decimals that keep a tick of this size readable: 0.0015 → 4, 2.5 → 1, 1200 → 0. */
export function tickDigits(v: number): number {
  if (v === 0 || v >= 10) return 0;
  return Math.min(8, Math.max(1, 1 - Math.floor(Math.log10(Math.abs(v)))));
}

export function LineChart({ points, title, height = 160, max: fixedMax }: { points: Point[]; title: string; height?: number; max?: number }) {
  const width = 600;
  const values = points.map((p) => p.value).filter((v): v is number => v !== null);
  const max = fixedMax ?? chartMax(values);
  // room for the longest tick label (small credit totals have many decimals)
  const pad = { l: Math.max(44, formatNumber(max, tickDigits(max)).length * 7 + 12), r: 12, t: 12, b: 24 };
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const x = (i: number) => pad.l + (points.length <= 1 ? w / 2 : (i * w) / (points.length - 1));
  const y = (v: number) => pad.t + h - (v / max) * h;
  // one path segment per run of measured points, so an empty bucket leaves a gap
  const runs: number[][] = [];
  points.forEach((p, i) => {
    if (p.value === null) return;
    if (i > 0 && points[i - 1].value !== null && runs.length) runs[runs.length - 1].push(i);
    else runs.push([i]);
  });
  const line = runs.map((run) => run.map((i, k) => `${k ? "L" : "M"}${x(i).toFixed(1)},${y(points[i].value as number).toFixed(1)}`).join(" ")).join(" ");
  const area = runs
    .filter((run) => run.length > 1)
    .map((run) => {
      const top = run.map((i, k) => `${k ? "L" : "M"}${x(i).toFixed(1)},${y(points[i].value as number).toFixed(1)}`).join(" ");
      return `${top} L${x(run[run.length - 1]).toFixed(1)},${pad.t + h} L${x(run[0]).toFixed(1)},${pad.t + h} Z`;
    })
    .join(" ");
  const ticks = [0, 0.5, 1].map((f) => f * max);
  const step = Math.max(1, Math.ceil(points.length / 6));
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title} preserveAspectRatio="none" data-max={max}>
        {ticks.map((v) => (
          <g key={v}>
            <line x1={pad.l} x2={width - pad.r} y1={y(v)} y2={y(v)} className="grid" />
            <text x={pad.l - 6} y={y(v) + 4} textAnchor="end" className="tick">
              {formatNumber(v, tickDigits(max))}
            </text>
          </g>
        ))}
        <path d={area} className="area" />
        <path d={line} className="line" />
        {points.map((p, i) =>
          p.value === null ? null : (
            <circle key={p.label + i} cx={x(i)} cy={y(p.value)} r={2.5} className="dot" data-value={p.value}>
              <title>{`${p.label}: ${formatNumber(p.value, Math.max(2, tickDigits(p.value)))}`}</title>
            </circle>
          ),
        )}
        {points.map((p, i) =>
          i % step === 0 ? (
            <text key={`l${i}`} x={x(i)} y={height - 6} textAnchor="middle" className="tick">
              {p.label}
            </text>
          ) : null,
        )}
      </svg>
    </figure>
  );
}

export function BarList({ items, title, unit }: { items: { label: string; value: number }[]; title: string; unit?: string }) {
  const max = chartMax(items.map((i) => i.value));
  return (
    <figure className="chart bars">
      <figcaption>{title}</figcaption>
      <ul>
        {items.map((it) => (
          <li key={it.label}>
            <span className="bar-label" title={it.label}>
              {it.label}
            </span>
            <span className="bar-track" aria-hidden="true">
              <span className="bar-fill" style={{ width: `${(it.value / max) * 100}%` }} />
            </span>
            <span className="bar-value">
              {formatNumber(it.value, Math.max(2, tickDigits(it.value)))}
              {unit ? ` ${unit}` : ""}
            </span>
          </li>
        ))}
      </ul>
    </figure>
  );
}
