/**
 * Small inline SVG charts for the status page: one point per run, oldest on the left. Pure, no
 * script, no external asset; built with `h` (src/service/_html.ts), so every label (a table name,
 * a run id) is escaped, and every coordinate is a number formatted here.
 *
 * A chart is decoration: the status page's tables carry the same numbers, so the page reads the
 * same where SVG is not shown.
 *
 * @module
 */
import type { HtmlEscapedString } from "hono/utils/html";
import { h } from "./_html.ts";

/** One point of a chart. */
export interface ChartPoint {
  /** The value; null leaves a gap (e.g. a table not counted in that run). */
  value: number | null;
  /** Shown as the point's tooltip (`<title>`), e.g. the run id and the value. */
  label: string;
  /** CSS class of the point (e.g. the run's result: `ok`, `failed`, `stopped`). */
  kind?: string;
}

/** Options for {@linkcode svgChart}. */
export interface ChartOptions {
  /** The chart's accessible name (`aria-label` and `<title>`). */
  title: string;
  /** `id` attribute of the `<svg>`, if any. */
  id?: string;
  /** Size in CSS pixels. @default {320 × 60} */
  width?: number;
  height?: number;
  /**
   * Whether the scale starts at 0 (durations, rows written); false spans the lowest to the
   * highest value, so that a row count growing by a few rows, or not at all, shows. @default {true}
   */
  zero?: boolean;
  /** Formats the scale's bounds, shown above the plot (charts 48 px high or more). */
  format?: (value: number) => string;
}

/** Inner margin, in pixels, so that points on the edges are whole. */
const PAD = 4;
/** Height of the strip above the plot that holds the scale's label. */
const LABEL = 11;

/** Where the points go, and the scale. */
export interface ChartLayout {
  /** Per value: x, and y (null for a null value). */
  positions: { x: number; y: number | null }[];
  /** The values at the bottom and top of the plot. */
  min: number;
  max: number;
}

/**
 * Where each point goes, in a `width` × `height` box whose plot starts `top` pixels down: x
 * evenly spaced from left to right (a single point in the middle); y from `min` at the bottom to
 * `max` at the top. With `zero`, `min` is 0 and `max` at least 1 (all-zero values lie on the
 * bottom line); without, equal values lie on the middle line.
 */
export function chartLayout(
  values: readonly (number | null)[],
  box: { width: number; height: number; top?: number; zero?: boolean },
): ChartLayout {
  const { width, height } = box;
  const top = PAD + (box.top ?? 0);
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const zero = box.zero ?? true;
  const min = zero || finite.length === 0 ? 0 : Math.min(...finite);
  const max = zero ? Math.max(1, ...finite) : finite.length === 0 ? 1 : Math.max(...finite);
  const span = width - 2 * PAD;
  const plot = height - PAD - top;
  const positions = values.map((value, i) => {
    const x = values.length === 1 ? width / 2 : PAD + (span * i) / (values.length - 1);
    if (value === null || !Number.isFinite(value)) return { x: round(x), y: null };
    const share = max === min ? (zero ? 0 : 0.5) : (Math.max(min, value) - min) / (max - min);
    return { x: round(x), y: round(height - PAD - share * plot) };
  });
  return { positions, min, max };
}

/**
 * A line chart of `points` (oldest first): a `<polyline>` through each stretch of consecutive
 * values and a `<circle>` per value, its label as tooltip. Empty when there is no point.
 */
export function svgChart(points: readonly ChartPoint[], options: ChartOptions): HtmlEscapedString {
  const width = options.width ?? 320;
  const height = options.height ?? 60;
  if (points.length === 0) return h``;
  const labelled = height >= 48;
  const zero = options.zero ?? true;
  const { positions, min, max } = chartLayout(points.map((p) => p.value), {
    width,
    height,
    top: labelled ? LABEL : 0,
    zero,
  });
  const format = options.format ?? ((v: number) => v.toLocaleString("en-US"));
  const stretches: string[][] = [[]];
  for (const { x, y } of positions) {
    if (y === null) stretches.push([]);
    else stretches.at(-1)!.push(`${x},${y}`);
  }
  const polylines = stretches.filter((l) => l.length > 1).map((l) =>
    h`<polyline points="${l.join(" ")}"></polyline>`
  );
  const circles = positions.flatMap(({ x, y }, i) =>
    y === null ? [] : [
      h`<circle class="${points[i].kind ?? ""}" cx="${x}" cy="${y}" r="2.5"><title>${
        points[i].label
      }</title></circle>`,
    ]
  );
  const scale = zero ? `max ${format(max)}` : `${format(min)} – ${format(max)}`;
  const label = labelled ? h`<text x="${PAD}" y="${PAD + 7}">${scale}</text>` : "";
  const id = options.id ? h` id="${options.id}"` : "";
  const base = height - PAD;
  return h`<svg${id} class="chart" role="img" aria-label="${options.title}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg"><title>${options.title}</title>${label}<line class="axis" x1="${PAD}" y1="${base}" x2="${
    width - PAD
  }" y2="${base}"></line>${polylines}${circles}</svg>`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
