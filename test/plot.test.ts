// Plot helpers: the display bundle, the HTML that must render offline with or without require.js,
// and what goes to the kernel (through a stand-in for tslab's display writer).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { CHROMIUM, chromiumPath } from '../scripts/prerequisites';
import { skipWithout } from './needs';
import { PLOTLY_MIME, barChart, figureBundle, heatmap, lineChart, plotlyEmbedBundle, scriptJson, type Figure } from '../src/plot';
import { LiveChart, plot, plotSetup } from '../src/notebook';
import { folderDictionary, readFigureDictionary, translateFigure, translateText } from '../src/figure-text';

const EVIL = '</script><script>window.PWNED = 1</script><!--';

/** The figure JSON inside the text/html, parsed back. */
function figureFromHtml(html: string): unknown {
  const m = /var fig = (.*), tries = 0;/.exec(html);
  assert.ok(m?.[1], 'text/html carries the figure as `var fig = {...}`');
  return JSON.parse(m[1]);
}

/** Script bodies of an HTML fragment (what an HTML parser would hand to the JS engine). */
function scripts(html: string): string[] {
  return [...html.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/gi)].map((m) => m[1] ?? '');
}

describe('figure builders', () => {
  it('draws one line per named series with x = 1, 2, 3 ... by default', () => {
    const fig = lineChart({ train: [30, 12, 8], valid: new Float32Array([28, 13, 9]) }, { title: 'Perplexity', logY: true });
    assert.deepEqual(
      fig.data.map((t) => [t.name, t.x, t.y]),
      [
        ['train', [1, 2, 3], [30, 12, 8]],
        ['valid', [1, 2, 3], [28, 13, 9]],
      ],
    );
    assert.equal(fig.layout.yaxis?.type, 'log');
    assert.deepEqual(fig.layout.title, { text: 'Perplexity' });
    assert.ok(Array.isArray(JSON.parse(JSON.stringify(fig)).data[1].y), 'typed arrays become JSON arrays');
  });

  it('takes explicit x values and rejects a series whose x and y lengths differ', () => {
    assert.deepEqual(lineChart([{ name: 'loss', x: [10, 20], y: [2, 1] }]).data[0]?.x, [10, 20]);
    assert.throws(() => lineChart([{ name: 'loss', x: [1, 2, 3], y: [2, 1] }]), /series 'loss' has 3 x values but 2 y values/);
  });

  it('keeps bar labels as categories and rejects labels that do not match the values', () => {
    const fig = barChart([' ', 'a', '1'], [5, 3, 1]);
    assert.equal(fig.layout.xaxis?.type, 'category');
    assert.deepEqual(fig.data[0]?.x, [' ', 'a', '1']);
    assert.throws(() => barChart(['a'], [1, 2]), /1 labels but 2 values/);
  });

  it('puts row 0 of a heatmap at the top, as the matrix prints', () => {
    const fig = heatmap([new Float32Array([1, 2]), [3, 4]], { x: ['a', 'b'], y: ['r0', 'r1'] });
    assert.deepEqual(fig.data[0]?.z, [
      [1, 2],
      [3, 4],
    ]);
    assert.equal(fig.layout.yaxis?.autorange, 'reversed');
    assert.equal(fig.layout.yaxis?.type, 'category');
  });
});

describe('figureBundle', () => {
  const fig: Figure = lineChart({ [EVIL]: [3, 2, 1] }, { title: 'Loss' });
  const bundle = figureBundle(fig, { divId: 'fig-1' });

  it('carries the plotly JSON, HTML and plain text', () => {
    assert.deepEqual(Object.keys(bundle).sort(), [PLOTLY_MIME, 'text/html', 'text/plain'].sort());
    assert.deepEqual(bundle[PLOTLY_MIME].data, fig.data);
    assert.equal(bundle[PLOTLY_MIME].config?.displaylogo, false);
    assert.match(bundle['text/plain'], /^Figure 'Loss': scatter '.*' \(3 points, last 1\)$/);
  });

  it('embeds the same figure in the HTML, drawn into its own div', () => {
    assert.deepEqual(figureFromHtml(bundle['text/html']), bundle[PLOTLY_MIME]);
    assert.match(bundle['text/html'], /<div id="fig-1" class="rnn-workbook-plot" style="width:100%;height:360px;">/);
  });

  it('cannot be broken out of by a trace name: the script holds no "<" at all', () => {
    const bodies = scripts(bundle['text/html']);
    assert.equal(bodies.length, 1);
    assert.ok(!bodies[0]?.includes('<'), 'no < inside the script, so no </script> and no <!--');
    assert.ok(!bundle['text/html'].includes('PWNED = 1</script>'));
  });

  it('gives every display its own div id, and refuses ids that are not plain names', () => {
    assert.notEqual(/id="([^"]+)"/.exec(figureBundle(fig)['text/html'])?.[1], /id="([^"]+)"/.exec(figureBundle(fig)['text/html'])?.[1]);
    assert.throws(() => figureBundle(fig, { divId: '"><script>' }), /must be letters, digits/);
  });

  it('escapes <, >, & and JS line separators in JSON without changing the value', () => {
    const value = { s: `${EVIL} & \u2028\u2029 >` };
    const json = scriptJson(value);
    assert.ok(!/[<>&\u2028\u2029]/.test(json));
    assert.deepEqual(JSON.parse(json), value);
  });
});

describe('plotlyEmbedBundle', () => {
  const embed = plotlyEmbedBundle();

  it('embeds the installed plotly.js, with nothing that could close its script early', () => {
    const bodies = scripts(embed['text/html']);
    assert.equal(bodies.length, 2, 'PlotlyConfig, then plotly.js');
    assert.ok((bodies[1]?.length ?? 0) > 1_000_000, 'the whole library, not a link to a CDN');
    assert.ok(!/https?:\/\/cdn/i.test(embed['text/html'].slice(0, 2000)));
    assert.match(embed['text/plain'], /plotly\.js\S* \d+\.\d+\.\d+ embedded/);
    assert.match(bodies[1] ?? '', /^if \(!window\.Plotly\) \(function \(define, module, exports\) \{/);
  });

  it('escapes </script and <!-- inside the library source', () => {
    const html = plotlyEmbedBundle({ version: 'fake 1.0.0', code: 'var s = "</script><!--";' })['text/html'];
    assert.match(html, /var s = "<\\\/script><\\!--";/);
  });
});

/** A stand-in for tslab's dist/jupyter.js, found by plot.ts the way it finds the real one. */
function fakeKernel(): { sent: { data: Record<string, unknown>; displayId?: string; update: boolean }[]; remove: () => void } {
  const file = join(tmpdir(), 'fake-kernel', 'node_modules', 'tslab', 'dist', 'jupyter.js');
  const sent: { data: Record<string, unknown>; displayId?: string; update: boolean }[] = [];
  const exports = {
    lastWriteDisplayData: (msg: { data: Record<string, unknown>; transient: { display_id?: string } }, update: boolean) =>
      sent.push({ data: msg.data, displayId: msg.transient.display_id, update }),
  };
  require.cache[file] = { id: file, filename: file, loaded: true, exports } as unknown as NodeJS.Module;
  return { sent, remove: () => delete require.cache[file] };
}

describe('displaying', () => {
  it('is a no-op outside a kernel', () => {
    assert.equal(plot(lineChart({ a: [1] })), undefined);
    assert.equal(plotSetup(), undefined);
    const chart = new LiveChart({ title: 'ppl' });
    chart.append({ train: 9 });
    chart.append({ train: 5 });
    assert.deepEqual(chart.figure.data[0]?.y, [9, 5]);
  });

  it('in a kernel: embeds plotly.js once as its own output, then sends each figure as one bundle', () => {
    const kernel = fakeKernel();
    try {
      plot(lineChart({ a: [1, 2] }));
      plot(barChart(['x'], [1]));
      assert.equal(kernel.sent.length, 3);
      assert.deepEqual(Object.keys(kernel.sent[0]?.data ?? {}).sort(), ['text/html', 'text/plain']);
      assert.match(String(kernel.sent[0]?.data['text/html']), /rnn-workbook-plotlyjs/);
      for (const s of kernel.sent.slice(1)) {
        assert.deepEqual(Object.keys(s.data).sort(), [PLOTLY_MIME, 'text/html', 'text/plain'].sort());
        assert.equal(s.update, false);
      }
    } finally {
      kernel.remove();
    }
  });

  it('in a kernel: a LiveChart shows once, then updates the same display in place', () => {
    const kernel = fakeKernel();
    try {
      const chart = new LiveChart({ title: 'Perplexity' });
      chart.append({ train: 20 }, 1);
      chart.append({ train: 10, valid: 12 }, 2);
      assert.deepEqual(
        kernel.sent.map((s) => s.update),
        [false, true, true],
      );
      const ids = new Set(kernel.sent.map((s) => s.displayId));
      assert.equal(ids.size, 1);
      assert.match([...ids][0] ?? '', /^rw-live-/);
      const last = kernel.sent[2]?.data[PLOTLY_MIME] as Figure;
      assert.deepEqual(
        last.data.map((t) => [t.name, t.x, t.y]),
        [
          ['train', [1, 2], [20, 10]],
          ['valid', [2], [12]],
        ],
      );
    } finally {
      kernel.remove();
    }
  });
});

/**
 * A tslab whose writer has moved (as an upgrade might move it): its dist/jupyter.js, really
 * required, no longer exports lastWriteDisplayData, and its public API records what it is given.
 */
function tslabWithoutWriter(): { html: { display: string | null; html: string }[]; remove: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'moved-writer-'));
  const pkg = join(root, 'node_modules', 'tslab');
  mkdirSync(join(pkg, 'dist'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'tslab', version: '9.0.0', main: 'dist/public.js' }));
  writeFileSync(join(pkg, 'dist', 'jupyter.js'), 'exports.displayWriterNowLivesElsewhere = true;\n');
  writeFileSync(
    join(pkg, 'dist', 'public.js'),
    `const shown = (globalThis.__tslabShown = []);
let next = 0;
function display(id) { return { html: (s) => shown.push({ display: id, html: s }) }; }
exports.display = display(null);
exports.newDisplay = () => display('d' + next++);
`,
  );
  const loaded = () => Object.keys(require.cache).filter((f) => f.startsWith(root));
  require(join(pkg, 'dist', 'jupyter.js')); // loaded, as in a kernel: plot.ts only looks in require.cache
  return {
    get html() {
      return (globalThis as unknown as { __tslabShown?: { display: string | null; html: string }[] }).__tslabShown ?? [];
    },
    remove: () => {
      for (const f of loaded()) delete require.cache[f];
      rmSync(root, { recursive: true, force: true });
    },
  };
}

describe('displaying when tslab has moved its writer', () => {
  it("says so once on stderr and shows every chart through tslab's public display.html", () => {
    const kernel = tslabWithoutWriter();
    const errors: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array) => errors.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      plotSetup();
      plot(lineChart({ a: [1, 2] }, { title: 'first' }));
      const chart = new LiveChart({ title: 'live' });
      chart.append({ train: 3 }, 1);
      chart.append({ train: 2 }, 2);
      plot(barChart(['x'], [1]));
    } finally {
      process.stderr.write = write;
      kernel.remove();
    }
    assert.equal(errors.length, 1, `one line, once: ${JSON.stringify(errors)}`);
    assert.match(errors[0] ?? '', /^rnn-workbook: tslab's display writer .*lastWriteDisplayData.* is missing .*display\.html\n$/);
    const shown = kernel.html;
    assert.equal(shown.length, 6, 'the embed, two plots and a live chart shown three times');
    assert.match(shown[0]?.html ?? '', /rnn-workbook-plotlyjs/, 'plotly.js embedded first');
    assert.equal(shown[0]?.display, null);
    assert.match(shown[1]?.html ?? '', /"first"/);
    assert.deepEqual(shown.slice(2, 5).map((s) => s.display), ['d0', 'd0', 'd0'], 'a live chart redraws one display in place');
    assert.match(shown[4]?.html ?? '', /"y":\[3,2\]/, 'its last drawing has both points');
    assert.match(shown[5]?.html ?? '', /rnn-workbook-plot/);
    assert.equal(shown[5]?.display, null);
    assert.deepEqual(kernel.html.slice(1).map((s) => /class="rnn-workbook-plot"/.test(s.html)), [true, true, true, true, true], 'every figure as its text/html');
  });
});

describe('figure text in another language', () => {
  const dict = { 'Training perplexity': '训练困惑度', epoch: '迭代周期', perplexity: '困惑度', 'sequential + carry': '顺序分区 + 保留状态' };

  it('translates whole strings first, then known parts of template strings, and leaves the rest', () => {
    assert.equal(translateText('perplexity', dict), '困惑度');
    assert.equal(translateText('Training perplexity (θ = 1)', dict), '训练困惑度 (θ = 1)', 'the longest known part wins, numbers stay');
    assert.equal(translateText('perplexity (log scale)', dict), '困惑度 (log scale)');
    assert.equal(translateText('tokens/s', dict), 'tokens/s');
    assert.equal(translateText('epoch', { epoch: 'epoch (迭代周期)', '迭代周期': 'x' }), 'epoch (迭代周期)', 'a translation is never translated again');
  });

  it('translates title, axis titles and trace names, and never the data', () => {
    const fig = lineChart({ 'sequential + carry': [3, 2], other: [4, 1] }, { title: 'Training perplexity', xTitle: 'epoch', yTitle: 'perplexity' });
    const zh = translateFigure(fig, dict);
    assert.equal(zh.layout.title?.text, '训练困惑度');
    assert.equal(zh.layout.xaxis?.title?.text, '迭代周期');
    assert.equal(zh.layout.yaxis?.title?.text, '困惑度');
    assert.deepEqual(zh.data.map((t) => t.name), ['顺序分区 + 保留状态', 'other']);
    assert.deepEqual(zh.data.map((t) => t.y), fig.data.map((t) => t.y));
    assert.equal(fig.layout.title?.text, 'Training perplexity', 'the figure itself is not modified');
    const bars = barChart(['epoch', 'b'], [1, 2]);
    assert.deepEqual(translateFigure(bars, dict).data[0]?.x, ['epoch', 'b'], 'tick labels are data');
  });

  it('in a kernel whose folder has *.figures.json: charts are shown translated; without, in English', () => {
    const dir = mkdtempSync(join(tmpdir(), 'figures-json-'));
    const cwd = process.cwd();
    const kernel = fakeKernel();
    try {
      writeFileSync(join(dir, '02-training-output.figures.json'), JSON.stringify({ 'Training perplexity': '训练困惑度' }));
      writeFileSync(join(dir, '03-loss.figures.json'), JSON.stringify({ epoch: '迭代周期' }));
      process.chdir(dir);
      plotSetup();
      plot(lineChart({ a: [1] }, { title: 'Training perplexity', xTitle: 'epoch' }));
      const chart = new LiveChart({ title: 'Training perplexity' });
      chart.append({ a: 2 }, 1);
      process.chdir(cwd);
      plotSetup(); // back in a folder without dictionaries
      plot(lineChart({ a: [1] }, { title: 'Training perplexity' }));
      const figures = kernel.sent.filter((s) => PLOTLY_MIME in s.data).map((s) => s.data[PLOTLY_MIME] as Figure);
      assert.deepEqual(figures.map((f) => f.layout.title?.text), ['训练困惑度', '训练困惑度', '训练困惑度', 'Training perplexity']);
      assert.equal(figures[0]?.layout.xaxis?.title?.text, '迭代周期', 'every dictionary of the folder applies');
      assert.match(String(kernel.sent.find((s) => PLOTLY_MIME in s.data)?.data['text/html']), /训练困惑度/, 'the text/html twin too');
      assert.equal(chart.figure.layout.title?.text, 'Training perplexity', 'the chart object keeps the English');
    } finally {
      process.chdir(cwd);
      kernel.remove();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a folder\'s dictionaries, and falls back to none when a file is broken', () => {
    const dir = mkdtempSync(join(tmpdir(), 'figures-json-'));
    try {
      writeFileSync(join(dir, 'a.figures.json'), JSON.stringify({ x: '横' }));
      assert.deepEqual(folderDictionary(dir), { x: '横' });
      writeFileSync(join(dir, 'b.figures.json'), '{ "y": 1 }');
      assert.throws(() => readFigureDictionary(join(dir, 'b.figures.json')), /"y" is not a string/);
      assert.deepEqual(folderDictionary(dir), {});
      assert.deepEqual(folderDictionary(join(dir, 'missing')), {});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The HTML alone, opened from file:// in Chromium: once plain, once with require.js on the page
// (Debian's libjs-requirejs when installed, else a minimal AMD loader), which makes UMD builds
// register with define() instead of setting window.Plotly.
const CHROMIUM_PATH = chromiumPath();
const REQUIRE_JS = '/usr/share/javascript/requirejs/require.js';
const AMD_SHIM = `<script>window.define = function () { window.amdDefines = (window.amdDefines || 0) + 1; };
window.define.amd = {}; window.require = window.requirejs = function () {};</script>`;

describe('the text/html in a browser', () => {
  if (skipWithout(CHROMIUM)) return;
  const dir = mkdtempSync(join(tmpdir(), 'rw-plot-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const page = (name: string, head: string, outputs: string[]): string => {
    const file = join(dir, `${name}.html`);
    writeFileSync(file, `<!doctype html><html><head>${head}</head><body>${outputs.map((o) => `<div>${o}</div>`).join('\n')}</body></html>`);
    return `file://${file}`;
  };

  async function render(url: string): Promise<{ drawn: number; divs: number; legend: string[]; plotly: string; pwned: unknown; network: string[] }> {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    try {
      const tab = await browser.newPage();
      const network: string[] = [];
      tab.on('request', (r) => (/^(file|data):/.test(r.url()) ? undefined : network.push(r.url())));
      await tab.goto(url);
      await tab.waitForFunction(() => document.querySelectorAll('.rnn-workbook-plot .main-svg').length > 0, null, { timeout: 20_000 }).catch(() => undefined);
      const seen = await tab.evaluate(() => ({
        divs: document.querySelectorAll('.rnn-workbook-plot').length,
        drawn: document.querySelectorAll('.rnn-workbook-plot.js-plotly-plot .main-svg').length,
        legend: Array.from(document.querySelectorAll('.legendtext'), (e) => e.textContent ?? ''),
        plotly: String((window as unknown as { Plotly?: { version?: string } }).Plotly?.version),
        pwned: (window as unknown as { PWNED?: unknown }).PWNED,
      }));
      return { ...seen, network };
    } finally {
      await browser.close();
    }
  }

  const outputs = () => [plotlyEmbedBundle()['text/html'], figureBundle(lineChart({ train: [3, 2, 1], [EVIL]: [4, 3, 2] }))['text/html']];
  const heads: [string, string][] = [
    ['without require.js', ''],
    ['with require.js', existsSync(REQUIRE_JS) ? `<script src="file://${REQUIRE_JS}"></script>` : AMD_SHIM],
  ];

  for (const [label, head] of heads) {
    it(`draws the chart offline ${label}, showing a hostile trace name as text`, async () => {
      const seen = await render(page(label.replace(/\W/g, '-'), head, outputs()));
      assert.equal(seen.divs, 1);
      assert.ok(seen.drawn >= 1, `plotly drew into the div (${JSON.stringify(seen)})`);
      assert.match(seen.plotly, /^\d+\.\d+\.\d+$/);
      assert.deepEqual(seen.legend, ['train', EVIL]);
      assert.equal(seen.pwned, undefined);
      assert.deepEqual(seen.network, []);
    });
  }

  it('sets window.Plotly even for a UMD build that would register with define() under require.js', async () => {
    const umd = `(function (root, factory) {
      if (typeof define === 'function' && define.amd) define([], factory);
      else if (typeof module === 'object' && module.exports) module.exports = factory();
      else root.Plotly = factory();
    })(this, function () { return { version: '0.0.1', newPlot: function (el) {
      el.classList.add('js-plotly-plot'); el.innerHTML = '<svg class="main-svg"></svg>'; } }; });`;
    const embed = plotlyEmbedBundle({ version: 'fake-umd 0.0.1', code: umd })['text/html'];
    const seen = await render(page('umd', heads[1]?.[1] ?? '', [embed, figureBundle(lineChart({ a: [1] }))['text/html']]));
    assert.equal(seen.plotly, '0.0.1');
    assert.equal(seen.drawn, 1);
  });
});
