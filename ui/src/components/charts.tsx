// Hand-rolled SVG charts (no chart library): a line/area chart for trends and horizontal bars for rankings.
import { formatNumber } from "../i18n";

export interface Point {
  label: string;
  value: number;
}

export function LineChart({ points, title, height = 160 }: { points: Point[]; title: string; height?: number }) {
  const width = 600;
  const pad = { l: 44, r: 12, t: 12, b: 24 };
  const max = Math.max(1, ...points.map((p) => p.value));
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const x = (i: number) => pad.l + (points.length <= 1 ? w / 2 : (i * w) / (points.length - 1));
  const y = (v: number) => pad.t + h - (v / max) * h;
  const line = points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
  const area = points.length ? `${line} L${x(points.length - 1)},${pad.t + h} L${x(0)},${pad.t + h} Z` : "";
  const ticks = [0, 0.5, 1].map((f) => f * max);
  const step = Math.max(1, Math.ceil(points.length / 6));
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title} preserveAspectRatio="none">
        {ticks.map((v) => (
          <g key={v}>
            <line x1={pad.l} x2={width - pad.r} y1={y(v)} y2={y(v)} className="grid" />
            <text x={pad.l - 6} y={y(v) + 4} textAnchor="end" className="tick">
              {formatNumber(v, v < 10 ? 1 : 0)}
            </text>
          </g>
        ))}
        <path d={area} className="area" />
        <path d={line} className="line" />
        {points.map((p, i) => (
          <circle key={p.label + i} cx={x(i)} cy={y(p.value)} r={2.5} className="dot">
            <title>{`${p.label}: ${formatNumber(p.value, 2)}`}</title>
          </circle>
        ))}
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

export function BarList({ items, title, unit }: { items: Point[]; title: string; unit?: string }) {
  const max = Math.max(1, ...items.map((i) => i.value));
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
              {formatNumber(it.value, 2)}
              {unit ? ` ${unit}` : ""}
            </span>
          </li>
        ))}
      </ul>
    </figure>
  );
}
