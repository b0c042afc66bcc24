// The notebooks' adapter: what only makes sense inside a tslab kernel running a lesson. It shows
// plot.ts's figures below the running cell (and redraws live charts in place), and picks a lesson's
// settings, shortened when the notebook tests run the lessons. The maths never imports this file.
import { randomBytes } from 'crypto';
import { sep } from 'path';
import { makeConfig, type RNNConfig } from './config';
import { folderDictionary, translateFigure, type FigureDictionary } from './figure-text';
import { figureBundle, layoutFor, plotlyEmbedBundle, type ChartOptions, type Figure, type Trace } from './plot';

// ---- Lesson settings ---------------------------------------------------------------------------

/** The environment variable the notebook tests set to run every lesson with its quick settings. */
export const PRESET_ENV = 'RNN_WORKBOOK_PRESET';

/** True when the notebook tests run the lessons with their quick settings (RNN_WORKBOOK_PRESET=test). */
export function isQuickRun(): boolean {
  return process.env[PRESET_ENV] === 'test';
}

/**
 * The configuration a lesson runs with: `full` on top of DEFAULTS, or — when the notebook tests
 * execute it with RNN_WORKBOOK_PRESET=test — `quick` on top of that, so every cell still runs
 * but in seconds. The HTML lessons are built with `full`.
 */
export function lessonConfig(full: Partial<RNNConfig> = {}, quick: Partial<RNNConfig> = {}): RNNConfig {
  return makeConfig({ ...full, ...(isQuickRun() ? quick : {}) });
}

// ---- Showing figures in a tslab kernel ---------------------------------------------------------

interface DisplayMessage {
  data: { [mime: string]: unknown };
  metadata: { [key: string]: unknown };
  transient: { display_id?: string };
}
type WriteDisplayData = (msg: DisplayMessage, update: boolean) => void;

/** The part of tslab's public API (`import * as tslab from 'tslab'`) the fallback uses. */
interface TslabPublic {
  display: { html(s: string): void };
  newDisplay(): { html(s: string): void };
}

/** How this process shows a display bundle: tslab's writer (every MIME type), or its public `display.html`. */
type Kernel = { kind: 'writer'; write: WriteDisplayData } | { kind: 'public'; tslab: TslabPublic };

const TSLAB_DIR = `${sep}tslab${sep}`;
const TSLAB_JUPYTER = `${TSLAB_DIR}dist${sep}jupyter.js`;

let warned = false;

/**
 * The kernel this process runs in, or null in plain node. tslab's public `display` sends one MIME
 * type per call, so figures go through the writer behind it (tslab 1.0.22, dist/jupyter.js's
 * `lastWriteDisplayData`). Modules are looked up in require.cache, not required, so plain node
 * never loads tslab's compiler. When tslab is loaded but that writer is gone (an upgrade moved it),
 * this says so once on stderr and falls back to tslab's public `display.html`: the charts still
 * show (text/html, with plotly.js embedded), without the plotly MIME type JupyterLab prefers.
 */
function tslabKernel(): Kernel | null {
  let root: string | null = null;
  for (const [file, mod] of Object.entries(require.cache)) {
    const at = file.lastIndexOf(TSLAB_DIR);
    if (at < 0 || !mod || !file.slice(at).startsWith(`${TSLAB_DIR}dist${sep}`)) continue;
    root ??= file.slice(0, at + TSLAB_DIR.length - 1);
    if (!file.endsWith(TSLAB_JUPYTER)) continue;
    const write: unknown = (mod.exports as { lastWriteDisplayData?: unknown }).lastWriteDisplayData;
    if (typeof write === 'function') return { kind: 'writer', write: write as WriteDisplayData };
  }
  if (root === null) return null;
  if (!warned) {
    warned = true;
    process.stderr.write(`rnn-workbook: tslab's display writer (dist/jupyter.js lastWriteDisplayData) is missing in ${root}; charts fall back to tslab's display.html\n`);
  }
  return { kind: 'public', tslab: require(root) as TslabPublic };
}

let embedded = false; // per kernel process: a restart (or Run All) embeds again
let figureText: FigureDictionary | null = null; // read from the kernel's cwd on first use and by plotSetup()

/**
 * Embeds plotly.js here. Call it in a notebook's first cell so re-running a chart cell never loses it.
 * It also (re)reads the figure dictionaries beside the notebook (*.figures.json in the kernel's cwd,
 * as in notebooks/zh/), which translate the charts' titles, axis titles and trace names.
 */
export function plotSetup(): void {
  const kernel = tslabKernel();
  if (!kernel) return;
  figureText = folderDictionary(process.cwd());
  const embed = plotlyEmbedBundle();
  if (kernel.kind === 'writer') kernel.write({ data: embed, metadata: {}, transient: {} }, false);
  else kernel.tslab.display.html(embed['text/html']);
  embedded = true;
}

/** What a figure looks like when shown from this process: translated when a dictionary is beside the notebook. */
export function shownFigure(fig: Figure): Figure {
  figureText ??= folderDictionary(process.cwd());
  return translateFigure(fig, figureText);
}

/** Where a live chart redraws itself: a Jupyter display_id, or the fallback's own tslab display. */
interface LiveTarget {
  id: string;
  fallback?: { html(s: string): void };
}

function send(fig: Figure, live?: LiveTarget, update = false): void {
  const kernel = tslabKernel();
  if (!kernel) return;
  if (!embedded) plotSetup(); // a separate output, so live updates never replace the embed
  const bundle = figureBundle(shownFigure(fig));
  if (kernel.kind === 'writer') {
    kernel.write({ data: { ...bundle }, metadata: {}, transient: live ? { display_id: live.id } : {} }, update);
    return;
  }
  if (!live) return kernel.tslab.display.html(bundle['text/html']);
  live.fallback ??= kernel.tslab.newDisplay();
  live.fallback.html(bundle['text/html']);
}

/** Shows a figure below the running cell. Returns nothing, so tslab does not echo a value. */
export function plot(fig: Figure): void {
  send(fig);
}

/** A chart redrawn in place (Jupyter display_id), e.g. the perplexity curve during training. */
export class LiveChart {
  private readonly live: LiveTarget = { id: `rw-live-${randomBytes(6).toString('hex')}` };
  private readonly series = new Map<string, { x: number[]; y: number[] }>();
  private current: Figure;

  /** Shows an empty chart right away, so it sits in the cell that created it. */
  constructor(opts: ChartOptions = {}) {
    this.current = { data: [], layout: layoutFor(opts) };
    send(this.current, this.live);
  }

  get figure(): Figure {
    return this.current;
  }

  /** Replaces the traces (keeping the layout), or the whole figure. */
  update(next: Trace[] | Figure): void {
    this.current = Array.isArray(next) ? { ...this.current, data: next } : next;
    send(this.current, this.live, true);
  }

  /** Adds one point per named series and redraws: `chart.append({ train: m.perplexity }, m.epoch)`. */
  append(points: Record<string, number>, x?: number): void {
    for (const [name, y] of Object.entries(points)) {
      const s = this.series.get(name) ?? { x: [], y: [] };
      s.x.push(x ?? s.x.length + 1);
      s.y.push(y);
      this.series.set(name, s);
    }
    this.update([...this.series].map(([name, s]): Trace => ({ type: 'scatter', mode: 'lines', name, x: [...s.x], y: [...s.y] })));
  }
}
