// Charts for the notebooks (perplexity curves from 02-training-output on, bars, heatmaps), as plain
// plotly JSON. A figure goes out as ONE Jupyter display bundle: the plotly MIME type for JupyterLab
// and VS Code, text/html for classic Notebook and exported HTML (plotly.js embedded once per
// notebook, so pages work offline), and text/plain for everything else. Pure: showing a bundle in a
// tslab kernel is notebook.ts's job.
import { randomBytes } from 'crypto';
import { readFileSync } from 'fs';
import { dirname, join } from 'path';

export type Datum = number | string;
export type Numbers = ArrayLike<number>; // number[], Float32Array (tensor.dataSync()), ...

/** One plotly trace: the fields our builders set are typed, any other plotly option passes through. */
export interface Trace {
  type: 'scatter' | 'bar' | 'heatmap';
  name?: string;
  x?: Datum[];
  y?: Datum[];
  z?: number[][];
  mode?: 'lines' | 'markers' | 'lines+markers';
  [option: string]: unknown;
}

export interface Axis {
  title?: { text: string };
  type?: 'linear' | 'log' | 'category';
  [option: string]: unknown;
}

export interface Layout {
  title?: { text: string };
  xaxis?: Axis;
  yaxis?: Axis;
  height?: number;
  [option: string]: unknown;
}

/** A plotly figure as plain JSON: exactly what Plotly.newPlot and the plotly MIME renderers take. */
export interface Figure {
  data: Trace[];
  layout: Layout;
  config?: { [option: string]: unknown };
}

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';
export const FIGURE_CLASS = 'rnn-workbook-plot'; // the div of every figure's text/html
export const EMBED_CLASS = 'rnn-workbook-plotlyjs'; // marks the output that embeds plotly.js

export interface FigureBundle {
  'application/vnd.plotly.v1+json': Figure;
  'text/html': string;
  'text/plain': string;
}

export interface ChartOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  logY?: boolean; // perplexity falls over orders of magnitude early in training
  height?: number; // pixels
}

export interface Series {
  name: string;
  y: Numbers;
  x?: Numbers; // default 1, 2, 3, ... (epochs are 1-based)
}

/** Lines, one per named series: `lineChart({ train: ppl })` or `lineChart([{ name, x, y }])`. */
export function lineChart(series: Record<string, Numbers> | readonly Series[], opts: ChartOptions = {}): Figure {
  const list: readonly Series[] = isSeriesList(series) ? series : Object.entries(series).map(([name, y]) => ({ name, y }));
  const data = list.map(({ name, x, y }): Trace => {
    if (x && x.length !== y.length) throw new Error(`lineChart: series '${name}' has ${x.length} x values but ${y.length} y values; pass one x per y`);
    return { type: 'scatter', mode: 'lines', name, x: x ? Array.from(x) : Array.from(y, (_, i) => i + 1), y: Array.from(y) };
  });
  return { data, layout: layoutFor(opts) };
}

function isSeriesList(s: Record<string, Numbers> | readonly Series[]): s is readonly Series[] {
  return Array.isArray(s);
}

/** One bar per label, e.g. character frequencies of the corpus. */
export function barChart(labels: readonly Datum[], values: Numbers, opts: ChartOptions = {}): Figure {
  if (labels.length !== values.length) throw new Error(`barChart: ${labels.length} labels but ${values.length} values; pass one label per value`);
  const layout = layoutFor(opts);
  layout.xaxis = { ...layout.xaxis, type: 'category' }; // keep '1' or ' ' as labels, not numbers
  return { data: [{ type: 'bar', x: [...labels], y: Array.from(values) }], layout };
}

/** A matrix as colours, row 0 at the top as when printed (weights, one-hot batches, probabilities). */
export function heatmap(z: readonly Numbers[], opts: ChartOptions & { x?: readonly Datum[]; y?: readonly Datum[] } = {}): Figure {
  const rows = z.map((row) => Array.from(row));
  const layout = layoutFor(opts);
  layout.yaxis = { ...layout.yaxis, autorange: 'reversed', ...(opts.y ? { type: 'category' } : {}) };
  if (opts.x) layout.xaxis = { ...layout.xaxis, type: 'category' };
  const trace: Trace = { type: 'heatmap', z: rows, colorscale: 'Viridis' };
  if (opts.x) trace.x = [...opts.x];
  if (opts.y) trace.y = [...opts.y];
  return { data: [trace], layout };
}

/** The layout of a chart with these options (LiveChart starts from it). */
export function layoutFor(opts: ChartOptions): Layout {
  const layout: Layout = { height: opts.height ?? 360, margin: { t: opts.title ? 50 : 20, r: 20, b: 50, l: 60 } };
  if (opts.title) layout.title = { text: opts.title };
  layout.xaxis = opts.xTitle ? { title: { text: opts.xTitle } } : {};
  layout.yaxis = opts.yTitle ? { title: { text: opts.yTitle } } : {};
  if (opts.logY) layout.yaxis.type = 'log';
  return layout;
}

/** The display bundle of a figure (pure: tests and non-notebook callers use it directly). */
export function figureBundle(fig: Figure, opts: { divId?: string } = {}): FigureBundle {
  const full: Figure = { data: fig.data, layout: fig.layout, config: { responsive: true, displaylogo: false, ...fig.config } };
  const divId = opts.divId ?? `rw-plot-${randomBytes(6).toString('hex')}`;
  if (!/^[A-Za-z][\w-]*$/.test(divId)) throw new Error(`figureBundle: divId '${divId}' must be letters, digits, '-' or '_'`);
  return { [PLOTLY_MIME]: full, 'text/html': figureHtml(full, divId), 'text/plain': describe(full) };
}

/** JSON that is safe inside <script>: no '<' (so no '</script>'), '>', '&' or JS-only line breaks. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// Waits for plotly.js (the embed may still be parsing, or arrive through a slow output renderer)
// and for the div (some frontends run scripts before attaching the output), then draws.
function figureHtml(fig: Figure, divId: string): string {
  const height = typeof fig.layout.height === 'number' ? `${fig.layout.height}px` : '360px';
  const missing = 'plotly.js is not on this page: run rw.plotSetup() (or the notebook from the top) to embed it.';
  return `<div id="${divId}" class="${FIGURE_CLASS}" style="width:100%;height:${height};"></div>
<script type="text/javascript">
(function () {
  var fig = ${scriptJson(fig)}, tries = 0;
  function draw() {
    var el = document.getElementById(${scriptJson(divId)}), P = window.Plotly;
    if (el && P && P.newPlot) return P.newPlot(el, fig.data, fig.layout, fig.config);
    if (++tries > 400) return el && (el.textContent = ${scriptJson(missing)});
    setTimeout(draw, 50);
  }
  draw();
})();
</script>`;
}

function describe(fig: Figure): string {
  const title = fig.layout.title ? ` '${fig.layout.title.text}'` : '';
  const traces = fig.data.map((t) => {
    if (t.type === 'heatmap') return `heatmap ${t.z?.length ?? 0}x${t.z?.[0]?.length ?? 0}`;
    const y = t.y ?? [];
    const last = y.length ? `, last ${String(y[y.length - 1])}` : '';
    return `${t.type}${t.name ? ` '${t.name}'` : ''} (${y.length} points${last})`;
  });
  return `Figure${title}: ${traces.join('; ') || 'no data yet'}`;
}

// plotly.js itself. The smaller bundles are preferred when installed (cartesian: scatter, bar, heatmap).
const PLOTLY_PACKAGES = ['plotly.js-cartesian-dist-min', 'plotly.js-dist-min', 'plotly.js-dist'];
export interface PlotlySource {
  version: string;
  code: string;
}
let plotlySource: PlotlySource | null = null;

function loadPlotly(): PlotlySource {
  if (plotlySource) return plotlySource;
  for (const pkg of PLOTLY_PACKAGES) {
    let file: string;
    try {
      file = require.resolve(pkg);
    } catch {
      continue;
    }
    const { version } = JSON.parse(readFileSync(join(dirname(file), 'package.json'), 'utf8')) as { version: string };
    plotlySource = { version: `${pkg} ${version}`, code: readFileSync(file, 'utf8') };
    return plotlySource;
  }
  throw new Error(`plotly.js is missing: npm install ${PLOTLY_PACKAGES[PLOTLY_PACKAGES.length - 1]}`);
}

/**
 * The bundle that embeds plotly.js. `define`, `module` and `exports` are shadowed so that every
 * plotly build sets window.Plotly, with or without require.js (AMD) on the page.
 */
export function plotlyEmbedBundle(source: PlotlySource = loadPlotly()): { 'text/html': string; 'text/plain': string } {
  const { version, code } = source;
  const safe = code.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
  const html = `<div class="${EMBED_CLASS}" style="display:none"></div>
<script type="text/javascript">window.PlotlyConfig = window.PlotlyConfig || { MathJaxConfig: 'local' };</script>
<script type="text/javascript">if (!window.Plotly) (function (define, module, exports) {
${safe}
}).call(window);</script>`;
  return { 'text/html': html, 'text/plain': `(${version} embedded for classic Notebook and exported HTML)` };
}
