import type { TopLevelSpec } from 'vega-lite';

export interface ThroughputPoint {
  /** Seconds since the orders were posted. */
  readonly second: number;
  readonly series: string;
  readonly perSecond: number;
}

export interface LatencyBar {
  readonly percentile: string;
  readonly ms: number;
}

export interface ChartInput {
  readonly title: string;
  readonly subtitle: string;
  readonly throughput: readonly ThroughputPoint[];
  /** Width of a throughput bucket (its value is the mean rate over the bucket). */
  readonly bucketSeconds: number;
  readonly latency: readonly LatencyBar[];
  readonly latencyTitle: string;
  /** Drawn as a rule on the latency chart (the p99 goal). */
  readonly latencyGoalMs: number;
}

/**
 * Throughput over time (one line per series) beside the steady-load latency percentiles, rendered to SVG by
 * Vega without a browser or canvas (text widths are estimated).
 */
export async function renderChart(input: ChartInput): Promise<string> {
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: input.title, subtitle: input.subtitle, anchor: 'start' },
    config: { font: 'sans-serif', view: { stroke: null }, axis: { grid: true, gridOpacity: 0.4 } },
    hconcat: [
      {
        title: `Throughput (mean per ${input.bucketSeconds} s)`,
        width: 520,
        height: 260,
        data: { values: [...input.throughput] },
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
        encoding: {
          x: { field: 'second', type: 'quantitative', title: 'seconds since the orders were posted' },
          y: { field: 'perSecond', type: 'quantitative', title: 'notifications / s' },
          color: {
            field: 'series',
            type: 'nominal',
            title: null,
            legend: { orient: 'top', labelLimit: 300 },
          },
        },
      },
      {
        title: input.latencyTitle,
        width: 220,
        height: 260,
        layer: [
          {
            data: { values: [...input.latency] },
            mark: { type: 'bar', color: '#4c78a8' },
            encoding: {
              x: { field: 'percentile', type: 'nominal', sort: null, title: null, axis: { labelAngle: 0 } },
              y: { field: 'ms', type: 'quantitative', title: 'requested send time → ACS accepted (ms)' },
            },
          },
          {
            data: { values: [...input.latency] },
            mark: { type: 'text', dy: -6, fontSize: 11 },
            encoding: {
              x: { field: 'percentile', type: 'nominal', sort: null },
              y: { field: 'ms', type: 'quantitative' },
              text: { field: 'ms', type: 'quantitative', format: ',.0f' },
            },
          },
          {
            data: { values: [{ goal: input.latencyGoalMs, label: `goal p99 ≤ ${input.latencyGoalMs} ms` }] },
            mark: { type: 'rule', color: '#e45756', strokeDash: [4, 3] },
            encoding: { y: { field: 'goal', type: 'quantitative' } },
          },
        ],
      },
    ],
  };
  // Vega and Vega-Lite are ES modules with top-level await: `require` cannot load them, a real import can (the
  // Nx target sets SWC_NODE_IGNORE_DYNAMIC so that the TypeScript loader keeps this import as it is).
  const vega = await import('vega');
  const vegaLite = await import('vega-lite');
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
