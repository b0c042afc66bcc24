// The offline course site (scripts/build-site.ts), built from sample notebooks written below and
// checked in headless Chromium (test/site-checks.ts): pages load from disk without a single
// non-file request, draw every figure, typeset the maths, escape model and corpus text, and link
// to files that exist. Screenshots go to test-output/screenshots/.
//
// The real lessons' site is checked by test/notebooks.test.ts, right after it executes them. To
// check the site of other executed copies too (say the full-length ones `npm run lessons` leaves
// in .cache/executed), set LESSONS_EXECUTED_DIR=.cache/executed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { buildSite, lessonNames } from '../scripts/build-site';
import { figureBundle, lineChart, plotlyEmbedBundle } from '../src/plot';
import { CHROMIUM, JUPYTER } from '../scripts/prerequisites';
import { skipWithout } from './needs';
import { browser, browserHooks, checkEditions, checkSite, copyNotebookAssets, openPage, removeTmpDirs, ROOT, siteBuiltBefore, snapshotNotebooks, tmpDir } from './site-checks';

browserHooks();
after(removeTmpDirs);

// ---------------------------------------------------------------------------------------------
// Sample notebooks: shaped like tslab's executed lessons, with the outputs that can go wrong.

type Output = Record<string, unknown>;
const lines = (s: string) => s.split(/(?<=\n)/);
const md = (s: string) => ({ cell_type: 'markdown', metadata: {}, source: lines(s) });
const code = (n: number | null, s: string, outputs: Output[] = [], tags?: string[]) =>
  ({ cell_type: 'code', execution_count: n, metadata: tags ? { tags } : {}, source: lines(s), outputs });

/** A figure exactly as src/plot.ts displays it: plotly JSON, a text/html twin and text/plain. */
const figure = (title: string, series: Record<string, number[]>): Output => ({
  output_type: 'display_data',
  metadata: {},
  data: figureBundle(lineChart(series, { title, xTitle: 'epoch', yTitle: 'perplexity' })),
});

/** rw.plotSetup()'s output, with a stand-in for plotly.js that leaves a mark if it ever runs. */
const plotlyEmbed: Output = {
  output_type: 'display_data',
  metadata: {},
  data: plotlyEmbedBundle({ version: 'stand-in', code: 'window.__embedRan = true;' }),
};

const PNG_1x1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const SAMPLES: Record<string, object[]> = {
  '00-smoke': [md('# Smoke test (infrastructure only)'), code(1, '1 + 1', [])],
  '01-rnn-overview': [
    md('# 循环神经网络 · RNN overview\n\nA recurrent network keeps a hidden state $\\mathbf{H}_t$ that summarises the sequence so far.\n\n' +
      '## What you will learn\n\n- how $\\mathbf{H}_t = \\tanh(\\mathbf{X}_t \\mathbf{W}_{xh} + \\mathbf{H}_{t-1} \\mathbf{W}_{hh} + \\mathbf{b}_h)$ updates the state\n' +
      '- why perplexity $\\exp\\left(-\\frac{1}{n}\\sum_t \\log P(x_t \\mid x_{<t})\\right)$ measures a language model\n'),
    md('## 隐状态 · Hidden state\n\nThe update is\n\n$$\\mathbf{H}_t = \\phi(\\mathbf{X}_t \\mathbf{W}_{xh} + \\mathbf{H}_{t-1} \\mathbf{W}_{hh} + \\mathbf{b}_h).$$\n\n' +
      'Code such as `const price = "$5"; const cost = "$6"` stays code.\n\n| parameter | shape |\n|---|---|\n| `W_xh` | $d \\times h$ |\n| `W_hh` | $h \\times h$ |\n'),
    code(1, 'const numHiddens = 512; // h\nconsole.log(sample);', [
      { output_type: 'stream', name: 'stdout', text: ['numHiddens = 512\n'] },
      { output_type: 'stream', name: 'stdout', text: ['epoch 1\repoch 2\repoch 3 done\n', 'sample: <script>window.__pwned = "stream"</script> & <b>not bold</b>\n'] },
    ]),
    code(2, 'rw.plotSetup();', [plotlyEmbed]),
    code(3, 'plot(lineChart({ train: history }));', [
      figure('Training perplexity', { train: [20, 12, 8, 5, 3.2, 2.4, 2.1], '</script><script>window.__pwned="figure"</script>': [22, 14, 9, 6, 4, 3, 2.5] }),
    ]),
    md('### 困惑度 · Perplexity\n\nLower is better; 1 is a perfect model. Next: [text preprocessing](02-text-preprocessing.ipynb#词表-·-Vocabulary), ' +
      'or the [library](../src/model.ts).\n\n![a pixel](img/pixel.png)'),
    code(4, 'predict("time traveller <", 20, model, vocab)', [
      { output_type: 'execute_result', execution_count: 4, metadata: {}, data: { 'text/plain': ["'time traveller <img src=x onerror=\"window.__pwned=\\'plain\\'\">'"] } },
      { output_type: 'stream', name: 'stderr', text: ['warning: \u001b[31mexploding\u001b[0m gradient\n'] },
    ]),
    code(5, 'plot(gradNorms);\nfigureOf(clipped)', [
      figure('Gradient norm', { norm: [1, 5, 2, 9, 3] }),
      { ...figure('Perplexity (clipped)', { train: [3, 2.5, 2, 1.8] }), output_type: 'execute_result', execution_count: 5 },
    ], ['hide-input']),
    // An exercise as WORKBOOK.md lays it out: task, folded hint (with maths inside), exercise cell, check cell.
    md('### Exercise 1.1 · One step of the recurrence\n\nWrite `rnnStep`; the check below prints ✓ when it is right.'),
    md('<details class="hint"><summary>Hint</summary>\n\nTwo products, the bias $\\mathbf{b}_h$, then *squash*.\n\n</details>\n' +
      '<details class="hint"><summary>Hint 2</summary>\n\nThe squash is `tanh`.\n\n</details>'),
    code(6, 'function rnnStep(params: rw.RNNParams, x: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {\n  // BEGIN SOLUTION\n' +
      '  return tf.tanh(tf.add(tf.add(tf.matMul(x, params.W_xh), tf.matMul(h, params.W_hh)), params.b_h));\n  // END SOLUTION\n}', [], ['exercise']),
    code(7, 'rw.check.rnnStep(rnnStep);', [
      { output_type: 'stream', name: 'stdout', text: ['✓ rnnStep (exercise 1.1) matches rw.rnnStep on all 4 cases\n'] },
    ], ['check']),
    code(8, 'throw new Error("<script>")', [
      { output_type: 'error', ename: 'Error', evalue: '<script>', traceback: ['\u001b[31mError\u001b[0m: <script>window.__pwned="traceback"</script>', '    at <anonymous>:1:7'] },
    ]),
  ],
  '02-text-preprocessing': [
    md('# 文本预处理 · Text preprocessing\n\nWe turn *The Time Machine* into a sequence of token ids $i \\in \\{0, \\dots, V-1\\}$.\n'),
    md('## 词表 · Vocabulary\n\nOne id per character.'),
    code(1, 'vocab.tokenFreqs.slice(0, 2)', [
      { output_type: 'execute_result', execution_count: 1, metadata: {}, data: {
        'text/plain': ['[ [" ", 29927], ["e", 17838] ]'],
        'text/html': ['<table><thead><tr><th>token</th><th>count</th></tr></thead><tbody><tr><td>␣</td><td>29927</td></tr><tr><td>e</td><td>17838</td></tr></tbody></table>'],
      } },
      { output_type: 'display_data', metadata: {}, data: { 'image/png': PNG_1x1, 'text/plain': ['<Figure>'] } },
    ]),
  ],
  '03-no-maths': [md('# Sequence batches\n\nNo figures and no maths here.'), code(null, 'const x = 1;')],
};

/** Writes SAMPLES as executed notebooks and as their un-executed sources. */
function writeSamples(dir: string): { notebooksDir: string; executedDir: string } {
  const notebooksDir = path.join(dir, 'notebooks');
  const executedDir = path.join(dir, 'executed');
  fs.mkdirSync(notebooksDir, { recursive: true });
  fs.mkdirSync(executedDir, { recursive: true });
  const metadata = {
    kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' },
    language_info: { name: 'typescript', file_extension: '.ts', mimetype: 'text/typescript', version: '5.9.3' },
  };
  fs.mkdirSync(path.join(notebooksDir, 'img'));
  fs.writeFileSync(path.join(notebooksDir, 'img', 'pixel.png'), Buffer.from(PNG_1x1, 'base64'));
  const zhDir = path.join(notebooksDir, 'zh');
  fs.mkdirSync(zhDir);
  for (const [name, cells] of Object.entries(SAMPLES)) {
    const withIds = cells.map((c, i) => ({ id: `c${i}`, ...c }));
    const executed = { cells: withIds, metadata, nbformat: 4, nbformat_minor: 5 };
    const source = structuredClone(executed) as unknown as { cells: { cell_type: string; source: string[]; outputs?: unknown[]; execution_count?: unknown }[] };
    for (const cell of source.cells) if (cell.cell_type === 'code') Object.assign(cell, { outputs: [], execution_count: null });
    fs.writeFileSync(path.join(executedDir, `${name}.ipynb`), JSON.stringify(executed, null, 1));
    fs.writeFileSync(path.join(notebooksDir, `${name}.ipynb`), JSON.stringify(source, null, 1));
    // The Chinese twin: the same cells, the markdown "translated" (headings, hints, a sentence in Chinese).
    const zh = structuredClone(source);
    for (const cell of zh.cells.filter((c) => c.cell_type === 'markdown')) cell.source = lines(zhMarkdown(cell.source.join('')));
    fs.writeFileSync(path.join(zhDir, `${name}.ipynb`), JSON.stringify(zh, null, 1));
  }
  fs.writeFileSync(path.join(zhDir, '01-rnn-overview.figures.json'), JSON.stringify({ 'Training perplexity': '训练困惑度', perplexity: '困惑度' }));
  fs.writeFileSync(path.join(zhDir, 'glossary.md'), '# 术语表\n\n笔记的说法与 d2l-zh 术语。\n\n| 笔记中的说法 | d2l-zh 术语 | English | 代码中的名字 | 在哪一课 |\n| --- | --- | --- | --- | --- |\n| 潜变量 | 隐状态 | hidden state | `state` | 1 |\n| — | 困惑度 | perplexity | `perplexity` | 2 |\n');
  return { notebooksDir, executedDir };
}

/** A stand-in translation: Chinese headings, hints and a sentence, the maths and code kept. */
function zhMarkdown(source: string): string {
  return source
    .replace(/<summary>Hint( 2)?<\/summary>/g, '<summary>提示$1</summary>')
    .replace(/^(#+) (.*)$/gm, (_, hashes: string, title: string) => `${hashes} 中文：${title}\n\n这一段是测试用的中文说明，循环神经网络的隐状态。`);
}

describe('lessons site from sample notebooks', () => {
  if (skipWithout(CHROMIUM, JUPYTER)) return; // nbconvert renders the pages, Chromium checks them
  const dir = tmpDir();
  const { notebooksDir, executedDir } = writeSamples(dir);
  const outDir = path.join(dir, 'site');
  fs.mkdirSync(outDir);
  fs.writeFileSync(path.join(outDir, 'README.md'), 'kept\n');
  const site = siteBuiltBefore(() => buildSite({ notebooksDir, executedDir, outDir, title: 'rnn-workbook', description: 'Sample lessons.', log: () => undefined }));

  checkSite({ label: 'sample', lessons: lessonNames(notebooksDir), site, notebooksDir, executedDir });

  describe('the Chinese edition (zh/), from the same executions', () => {
    const zhDir = path.join(notebooksDir, 'zh');
    checkSite({ label: 'sample-zh', lessons: lessonNames(zhDir), site: () => site().zh!, notebooksDir: zhDir, executedDir });
    checkEditions({ label: 'sample', site });
  });

  test('shows model output as text: <script> in streams, results and tracebacks is inert', async () => {
    const context = await browser().newContext();
    try {
      const { page } = await openPage(context, path.join(site().outDir, '01-rnn-overview.html'));
      const outputs = await page.$$eval('.cell-outputs pre', (els) => els.map((el) => el.textContent!));
      assert.ok(outputs.some((t) => t.startsWith('numHiddens = 512\nepoch 3 done\nsample: <script>window.__pwned = "stream"</script> & <b>not bold</b>')));
      assert.ok(outputs.some((t) => t.includes('<img src=x onerror=')));
      assert.ok(outputs.some((t) => t.includes('<script>window.__pwned="traceback"</script>')));
      assert.equal(await page.locator('.cell-outputs script:not([type])').count(), 0);
    } finally {
      await context.close();
    }
  });

  test('reads title, contents and a "What you will learn" summary from the notebook', () => {
    const [overview] = site().lessons;
    assert.equal(overview.title, '循环神经网络 · RNN overview');
    assert.equal(site().zh?.lessons[0]?.title, '中文：循环神经网络 · RNN overview');
    assert.deepEqual(overview.toc.map((t) => t.level), [2, 2, 3, 3]);
    assert.match(overview.summaryHtml, /summarises the sequence so far/);
    assert.match(overview.summaryHtml, /<ul>[\s\S]*perplexity[\s\S]*<\/ul>/);
    assert.equal(overview.figures, 3);
    assert.ok(!fs.existsSync(path.join(outDir, '00-smoke.html')), 'notebooks named 00-* are not lessons');
  });

  test('links to another lesson notebook lead to its page; images beside the notebooks are copied', () => {
    const [overview] = site().lessons;
    assert.ok(overview.localLinks.includes('02-text-preprocessing.html#词表-·-Vocabulary'));
    assert.ok(fs.existsSync(path.join(outDir, 'img/pixel.png')));
    assert.deepEqual(overview.brokenLinks, ['../src/model.ts'], 'a link out of the site is reported');
  });

  test('a rebuild removes pages of deleted notebooks and keeps files it did not write', () => {
    const dir = tmpDir();
    const small = { notebooksDir: path.join(dir, 'notebooks'), executedDir: path.join(dir, 'executed'), outDir: path.join(dir, 'site'), log: () => undefined };
    for (const d of [small.notebooksDir, small.executedDir, small.outDir]) fs.mkdirSync(d);
    for (const name of ['03-no-maths', '04-extra']) {
      fs.copyFileSync(path.join(notebooksDir, '03-no-maths.ipynb'), path.join(small.notebooksDir, `${name}.ipynb`));
      fs.copyFileSync(path.join(executedDir, '03-no-maths.ipynb'), path.join(small.executedDir, `${name}.ipynb`));
    }
    fs.writeFileSync(path.join(small.outDir, 'README.md'), 'kept\n');
    buildSite(small);
    assert.ok(fs.existsSync(path.join(small.outDir, '04-extra.html')));
    fs.rmSync(path.join(small.notebooksDir, '04-extra.ipynb'));
    buildSite(small);
    assert.ok(!fs.existsSync(path.join(small.outDir, '04-extra.html')));
    assert.ok(!fs.existsSync(path.join(small.outDir, 'notebooks/04-extra.ipynb')));
    assert.ok(fs.existsSync(path.join(small.outDir, '03-no-maths.html')));
    assert.equal(fs.readFileSync(path.join(small.outDir, 'README.md'), 'utf8'), 'kept\n');
  });

  test('refuses an executed copy that no longer matches its source, and says what to run', () => {
    const stale = tmpDir();
    const dirs = writeSamples(stale);
    const file = path.join(dirs.notebooksDir, '02-text-preprocessing.ipynb');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('One id per character.', 'One id per token.'));
    assert.throws(() => buildSite({ ...dirs, outDir: path.join(stale, 'site') }), /02-text-preprocessing\.ipynb is out of date: cell 2 [\s\S]*npm run lessons/);
    fs.rmSync(path.join(dirs.executedDir, '03-no-maths.ipynb'));
    assert.throws(() => buildSite({ ...dirs, outDir: path.join(stale, 'site') }), /No executed copy of 03-no-maths\.ipynb [\s\S]*npm run lessons/);
  });
});

// Opt-in: the site of executed copies made elsewhere, e.g. LESSONS_EXECUTED_DIR=.cache/executed after
// `npm run lessons`. Both the copies and the sources are snapshotted first: notebook tests running
// beside this file may be rewriting them. Stale or missing copies fail every check, with the reason.
const extra = process.env.LESSONS_EXECUTED_DIR;
if (extra) {
  const dir = path.resolve(ROOT, extra);
  describe(`lessons site from the executed notebooks in ${path.relative(ROOT, dir) || dir}`, () => {
    if (skipWithout(CHROMIUM, JUPYTER)) return;
    const sources = path.join(ROOT, 'notebooks');
    const notebooksDir = snapshotNotebooks(sources);
    copyNotebookAssets(sources, notebooksDir);
    const executedDir = snapshotNotebooks(dir);
    const site = siteBuiltBefore(() => buildSite({ notebooksDir, executedDir, outDir: tmpDir(), title: 'rnn-workbook', log: () => undefined }));
    checkSite({ label: `lessons-${path.basename(dir)}`, lessons: lessonNames(notebooksDir), site, notebooksDir, executedDir });
  });
}

// ---------------------------------------------------------------------------------------------
// One value per quantity. Several lessons quote the same measured quantity (lesson 02 measures the
// epoch at which clipping starts to act, lesson 04 quotes it, ...); each quote is found by a pattern
// in the English notebooks, and every quote of a quantity must give the same value, including the
// value the measuring lesson's assertion cell checks the run against. A pattern that no longer
// matches fails too: reworded text must be found again, not dropped from the comparison.

type Quote = [lesson: string, where: 'markdown' | 'code', pattern: RegExp];
const QUANTITIES: { quantity: string; quotes: Quote[] }[] = [
  {
    quantity: "d2l's parameter count",
    quotes: [
      ['01', 'markdown', /where the ([\d,]+) parameters of d2l's model/],
      ['01', 'markdown', /= ([\d{},]+)\$ parameters, 90%/],
      ['01', 'code', /V === 28 && H === 512 && formula !== (\d+)\)/],
      ['02', 'markdown', /far too few for ([\d,]+) parameters/],
      ['04', 'markdown', /a few hundred of the ([\d,]+) \(one per parameter/],
      ['04', 'markdown', /on a vector of ([\d,]+)\s+entries \(one per parameter\)/],
      ['04', 'code', /gT\.length === (\d+) \?/],
      ['07', 'markdown', /characters and ([\d,]+) parameters/],
    ],
  },
  {
    quantity: 'the epoch at which clipping starts to act (measured in lesson 02)',
    quotes: [
      ['02', 'code', /\["first epoch with a clipped minibatch", [^,]+, (\d+),/],
      ['02', 'markdown', /Around epoch (\d+) the largest\s+minibatch gradients cross/],
      ['04', 'markdown', /first cross \$\\theta = 1\$ around epoch (\d+)/],
    ],
  },
  {
    quantity: 'the epoch of the lowest validation perplexity (measured in lesson 02)',
    quotes: [
      ['02', 'code', /\["epoch of the lowest validation perplexity", [^,]+, (\d+),/],
      ['02', 'markdown', /around epoch (\d+), and climbs back up/],
      ['02', 'markdown', /best around epoch (\d+) and got worse/],
      ['07', 'markdown', /at its best around epoch (\d+)/],
    ],
  },
  {
    quantity: 'the unigram perplexity of the training text',
    quotes: [
      ['02', 'code', /\["unigram perplexity", \w+, ([\d.]+),/],
      ['02', 'markdown', /the unigram line \(([\d.]+)\)/],
      ['03', 'code', /Math\.abs\(unigramPpl - ([\d.]+)\) > /],
      ['03', 'markdown', /perplexity about ([\d.]+) on this text/],
      ['03', 'markdown', /the unigram perplexity of the text, ([\d.]+)/],
      ['03', 'markdown', /unigram perplexity \(([\d.]+) here\)/],
    ],
  },
  {
    quantity: 'the bigram perplexity of the training text',
    quotes: [
      ['02', 'code', /\["bigram perplexity", \w+, ([\d.]+),/],
      ['02', 'markdown', /the bigram line \(([\d.]+),/],
      ['05', 'markdown', /bigram level \(about ([\d.]+)\)/],
      ['05', 'code', /close to the bigram level ([\d.]+)/],
    ],
  },
  {
    quantity: 'the characters trained on',
    quotes: [
      ['02', 'markdown', /the first ([\d,]+) characters of \*The Time Machine\*/],
      ['02', 'markdown', /\*these ([\d,]+) characters\*/],
      ['07', 'markdown', /from the first ([\d,]+) characters of the book/],
      ['07', 'markdown', /with only ([\d,]+) characters/],
    ],
  },
  {
    quantity: 'the characters held out for validation',
    quotes: [
      ['02', 'markdown', /The ([\d,]+) characters that come right after the training text/],
      ['07', 'markdown', /holds out the ([\d,]+) characters after the training text/],
    ],
  },
  {
    quantity: "d2l's training perplexity after 500 epochs",
    quotes: [
      ['02', 'markdown', /\*\*training perplexity of ([\d.]+)\*\*/],
      ['07', 'markdown', /perplexity ≈ ([\d.]+) after 500 epochs/],
      ['07', 'markdown', /d2l prints `perplexity ([\d.]+)`/],
    ],
  },
];

/** The markdown or the code of an English lesson, its cells joined. */
function lessonText(lesson: string, where: 'markdown' | 'code'): string {
  const dir = path.join(ROOT, 'notebooks');
  const file = fs.readdirSync(dir).find((f) => f.startsWith(`${lesson}-`) && f.endsWith('.ipynb'));
  assert.ok(file, `no notebook ${lesson}-*.ipynb`);
  const nb = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { cells: { cell_type: string; source: string[] | string }[] };
  return nb.cells
    .filter((c) => c.cell_type === where)
    .map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source))
    .join('\n');
}

describe('lessons quote one value per quantity', () => {
  for (const { quantity, quotes } of QUANTITIES) {
    test(quantity, () => {
      const found = quotes.map(([lesson, where, pattern]) => {
        const m = lessonText(lesson, where).match(pattern);
        assert.ok(m, `lesson ${lesson}'s ${where} no longer matches ${pattern}: update the pattern to the new wording`);
        return { lesson, value: m[1]!.replace(/\{,\}|,/g, '') }; // 291{,}356 and 291,356 are 291356
      });
      const values = new Set(found.map((f) => Number(f.value)));
      assert.equal(values.size, 1, `${quantity}: ${found.map((f) => `lesson ${f.lesson} says ${f.value}`).join(', ')}`);
      assert.ok(new Set(found.map((f) => f.lesson)).size >= 2 || quotes.some(([, w]) => w === 'code'), 'a quantity compared across lessons, or against its assertion');
    });
  }
});
