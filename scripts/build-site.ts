// Builds the offline course site: lessons/index.html plus one page per notebook.
//
//   npx tsx scripts/build-site.ts [--notebooks notebooks] [--executed .cache/executed] [--out lessons]
//   (RNN_WORKBOOK_PRESET=test: from .cache/executed-test, as `RNN_WORKBOOK_PRESET=test npm run lessons` executes them)
//
// Page order and download links come from the source notebooks; cells and outputs from their
// executed copies (same file names). nbconvert renders the cells with scripts/site/nbconvert/lesson;
// this script typesets the maths with KaTeX, wraps each lesson in a page with navigation, and copies
// plotly.js and KaTeX from node_modules into <out>/assets, so no page needs the network.
// Each lesson is offered twice for download: with solutions (<out>/notebooks/) and as the learner's
// copy (<out>/exercises/, made by scripts/exercises.ts); an exercise cell shows the learner's stub,
// with the reference code folded under "Solution".
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EMBED_CLASS, PLOTLY_MIME, type Figure } from '../src/plot';
import { FIGURES_SUFFIX, readFigureDictionary, translateFigure, type FigureDictionary } from '../src/figure-text';
import { EXERCISE_TAG, learnerCopies, lessonNames, notebookAssets, solutionSource, stubSource, type LearnerCopy } from './exercises';

export { lessonNames }; // one definition, in exercises.ts; the tests and the site read it from here
import { defaultOutDir } from './execute-notebooks';
import { lessonContent, LessonContent } from './site/lesson';
import { indexPage, lessonPage, SiteInfo, textPage } from './site/page';

export interface BuildOptions {
  notebooksDir: string; // source notebooks: the lessons, in file-name order (see lessonNames)
  executedDir: string; // executed copies with the same names
  outDir: string;
  title?: string;
  description?: string;
  jupyter?: string; // command that runs nbconvert; default $JUPYTER or 'jupyter'
  log?: (line: string) => void;
  zhNotebooksDir?: string; // the Chinese edition's notebooks; default <notebooksDir>/zh, built into <outDir>/zh when there
  zhTitle?: string;
  zhDescription?: string;
}

export interface BuiltLesson extends Omit<LessonContent, 'bodyHtml'> {
  name: string; // '03-language-models'
  page: string; // relative to outDir
  notebook: string; // relative to outDir: the notebook with solutions
  exercises: string; // relative to outDir: the learner's copy, solutions replaced by stubs
  exerciseNames: string[]; // the functions the learner writes, in order
  brokenLinks: string[]; // relative links in the notebook that lead nowhere on the site (e.g. ../src/*.ts)
}

export interface BuiltSite {
  outDir: string;
  lessons: BuiltLesson[];
  files: string[]; // every file written, relative to outDir
  lang: 'en' | 'zh-CN';
  assetsDir: string; // relative to outDir: '../assets' for the Chinese edition, whose pages share the English assets
  zh?: BuiltSite; // the Chinese edition in <outDir>/zh: built from the English executions and the zh notebooks' markdown
  glossary?: string; // relative to outDir (the Chinese edition's glossary page)
}

/** The Chinese edition's words inside the rendered cells (the shell's are in site/page.ts). */
const ZH_LABELS = { code: '代码', solution: '参考答案' };

const ROOT = path.resolve(__dirname, '..');
const SITE_DIR = path.join(__dirname, 'site');
const MANIFEST = '.build-site-manifest.json';

export function buildSite(options: BuildOptions): BuiltSite {
  const log = options.log ?? ((line: string) => console.log(line));
  const outDir = path.resolve(options.outDir);
  const names = lessonNames(options.notebooksDir);
  if (names.length === 0) throw new Error(`No lesson notebooks in ${options.notebooksDir}: pass --notebooks <dir with the lesson .ipynb files>.`);
  const problems = executedProblems(options.notebooksDir, options.executedDir);
  if (problems.length) {
    throw new Error(`${problems.join('\n')}\nRun \`npm run lessons\` (executes the notebooks, then builds the site), or pass --executed <dir>.`);
  }

  // The Chinese edition: zh twins of English lessons, with the English executions' outputs.
  const zhDir = options.zhNotebooksDir ?? path.join(options.notebooksDir, 'zh');
  const zhNames = lessonNames(zhDir).filter((n) => names.includes(n));
  const zhProblems = zhNames.flatMap((name) => zhExecuted(path.join(options.executedDir, `${name}.ipynb`), path.join(zhDir, `${name}.ipynb`)).problems);
  if (zhProblems.length) throw new Error(`${zhProblems.join('\n')}\nRun \`npm run zh-sync\` (copies the English code into the zh notebooks), then \`npm run lessons\`.`);

  // First, so a malformed solution region stops the build with the notebook, cell and line.
  const copies = new Map(learnerCopies(options.notebooksDir, names).map((c) => [c.name, c]));
  const zhCopies = new Map(learnerCopies(zhDir, zhNames).map((c) => [c.name, c]));
  const glossaryFile = path.join(zhDir, 'glossary.md');
  const hasGlossary = zhNames.length > 0 && fs.existsSync(glossaryFile);
  const toRender: RenderJob[] = [
    ...names.map((name) => ({ key: name, notebook: readNotebook(path.join(options.executedDir, `${name}.ipynb`)) })),
    ...zhNames.map((name) => ({ key: `zh.${name}`, notebook: zhExecuted(path.join(options.executedDir, `${name}.ipynb`), path.join(zhDir, `${name}.ipynb`)).notebook })),
  ];
  if (hasGlossary) {
    const cells = [{ id: 'glossary', cell_type: 'markdown', metadata: {}, source: fs.readFileSync(glossaryFile, 'utf8') }];
    toRender.push({ key: 'zh.glossary', notebook: { nbformat: 4, nbformat_minor: 5, metadata: {}, cells } as Notebook });
  }
  const fragments = renderCells(toRender, options.jupyter ?? process.env.JUPYTER ?? 'jupyter');
  const built = (edition: string[], prefix: string, copiesOf: Map<string, LearnerCopy>, twinOf: (name: string) => string | undefined) =>
    edition.map((name) => {
      const content = lessonContent(fragments.get(`${prefix}${name}`)!, name, edition);
      for (const e of content.mathErrors) log(`warning: ${prefix}${name}: KaTeX cannot typeset ${JSON.stringify(e.tex)}: ${e.message}`);
      const exerciseNames = copiesOf.get(name)!.stubs.map((s) => s.name);
      return { name, page: `${name}.html`, notebook: `notebooks/${name}.ipynb`, exercises: `exercises/${name}.ipynb`, exerciseNames, brokenLinks: [] as string[], twin: twinOf(name), ...content };
    });
  const lessons = built(names, '', copies, (name) => (zhNames.includes(name) ? `zh/${name}.html` : undefined));
  const zhLessons = built(zhNames, 'zh.', zhCopies, (name) => `../${name}.html`);

  const site: SiteInfo = { title: options.title ?? 'Lessons', description: options.description ?? '', ...(zhNames.length ? { twinIndex: 'zh/index.html', twinLabel: '中文', twinLang: 'zh-CN' } : {}) };
  const zhSite: SiteInfo = {
    title: options.zhTitle ?? `${site.title} · 中文版`,
    description: options.zhDescription ?? '从零实现字符级循环神经网络：一个经过测试的 TypeScript 库、七个 tslab 笔记本和离线 HTML 课程（依照 d2l-zh 8.5《循环神经网络的从零开始实现》）。',
    lang: 'zh-CN',
    base: '../',
    twinIndex: '../index.html',
    twinLabel: 'English',
    twinLang: 'en',
    ...(hasGlossary ? { glossary: 'glossary.html' } : {}),
  };
  const files = new Map<string, string | Buffer>();
  lessons.forEach((lesson, i) => files.set(lesson.page, lessonPage(site, lessons, i)));
  files.set('index.html', indexPage(site, lessons));
  for (const name of names) files.set(`notebooks/${name}.ipynb`, fs.readFileSync(path.join(options.notebooksDir, `${name}.ipynb`)));
  for (const [name, copy] of copies) files.set(`exercises/${name}.ipynb`, copy.json);
  for (const [rel, from] of notebookAssets(options.notebooksDir)) {
    if (rel.split('/')[0] === 'zh') continue; // the Chinese edition's files go with its own downloads
    for (const dir of ['notebooks', 'exercises']) files.set(`${dir}/${rel}`, fs.readFileSync(from)); // the downloads' relative files
  }
  if (zhNames.length) {
    zhLessons.forEach((lesson, i) => files.set(`zh/${lesson.page}`, lessonPage(zhSite, zhLessons, i)));
    files.set('zh/index.html', indexPage(zhSite, zhLessons));
    for (const name of zhNames) files.set(`zh/notebooks/${name}.ipynb`, fs.readFileSync(path.join(zhDir, `${name}.ipynb`)));
    for (const [name, copy] of zhCopies) files.set(`zh/exercises/${name}.ipynb`, copy.json);
    for (const [rel, from] of notebookAssets(zhDir)) {
      for (const dir of ['notebooks', 'exercises']) files.set(`zh/${dir}/${rel}`, fs.readFileSync(from)); // figures.json: charts in Chinese in Jupyter too
    }
    if (hasGlossary) {
      const glossary = lessonContent(fragments.get('zh.glossary')!, '术语表');
      files.set('zh/glossary.html', textPage(zhSite, glossary.title, glossary.bodyHtml));
    }
  }
  for (const [to, from] of assets([...lessons, ...zhLessons].some((l) => l.figures > 0))) files.set(to, fs.readFileSync(from));

  // Images beside the notebooks come along (a zh page's from notebooks/zh/, else the English one's);
  // other relative links must land on a page of the site.
  for (const [prefix, list, dirs] of [['', lessons, [options.notebooksDir]], ['zh/', zhLessons, [zhDir, options.notebooksDir]]] as const) {
  for (const lesson of list) {
    for (const ref of [...lesson.localImages, ...lesson.localLinks]) {
      const rel = path.posix.normalize(safeDecode(ref.replace(/[?#].*$/, '')));
      const source = dirs.map((d) => path.join(d, rel)).find((f) => fs.existsSync(f)) ?? path.join(dirs[0], rel);
      if (!rel || files.has(prefix + rel)) continue;
      const inside = rel.split('/')[0] !== '..';
      if (lesson.localImages.includes(ref) && inside && fs.existsSync(source) && fs.statSync(source).isFile()) {
        files.set(prefix + rel, fs.readFileSync(source));
        continue;
      }
      lesson.brokenLinks.push(ref);
      log(`warning: ${prefix}${lesson.name}: links to ${ref}, which is not part of the site`);
    }
  }
  }

  writeFiles(outDir, files);
  const strip = (list: typeof lessons) => list.map(({ bodyHtml: _, ...lesson }) => lesson);
  const zh: BuiltSite | undefined = zhNames.length
    ? {
        outDir: path.join(outDir, 'zh'),
        lessons: strip(zhLessons),
        files: [...files.keys()].filter((f) => f.startsWith('zh/')).map((f) => f.slice(3)),
        lang: 'zh-CN',
        assetsDir: '../assets',
        ...(hasGlossary ? { glossary: 'glossary.html' } : {}),
      }
    : undefined;
  return { outDir, lessons: strip(lessons), files: [...files.keys()], lang: 'en', assetsDir: 'assets', ...(zh ? { zh } : {}) };
}

/**
 * What the Chinese page of a lesson is made of: the zh notebook's cells (its markdown), each code
 * cell with the outputs of the English execution's cell of the same id, figures translated with
 * <name>.figures.json beside the zh notebook. One execution serves both editions, so the code must
 * be the same: a code cell that differs, or has no English twin, is a problem (run npm run zh-sync).
 */
export function zhExecuted(englishExecuted: string, zhSource: string): { notebook: Notebook; problems: string[] } {
  const en = readNotebook(englishExecuted);
  const zh = readNotebook(zhSource);
  const dictFile = zhSource.replace(/\.ipynb$/, FIGURES_SUFFIX);
  const dict: FigureDictionary = fs.existsSync(dictFile) ? readFigureDictionary(dictFile) : {};
  const byId = new Map(en.cells.map((c) => [String(c.id ?? ''), c]));
  const problems: string[] = [];
  const cells = zh.cells.map((cell, i) => {
    if (cell.cell_type !== 'code') return cell;
    const twin = byId.get(String(cell.id ?? ''));
    if (!twin || twin.cell_type !== 'code' || text(twin.source) !== text(cell.source)) {
      problems.push(`${zhSource}: code cell ${i + 1} (id ${String(cell.id)}) is not the English notebook's code.`);
      return cell;
    }
    const outputs = (twin.outputs ?? []).map((o) => translateOutput(o, dict));
    return { ...cell, outputs, execution_count: twin.execution_count ?? null };
  });
  return { notebook: { ...zh, metadata: { ...zh.metadata, lesson_labels: ZH_LABELS }, cells }, problems };
}

/** A figure output in the zh notebook's language (the plotly JSON the site draws; the text/html twin is dropped). */
function translateOutput(o: Output, dict: FigureDictionary): Output {
  if (!o.data || !(PLOTLY_MIME in o.data)) return o;
  return { ...o, data: { ...o.data, [PLOTLY_MIME]: translateFigure(o.data[PLOTLY_MIME] as Figure, dict) } };
}

function safeDecode(uri: string): string {
  try {
    return decodeURI(uri);
  } catch {
    return uri;
  }
}


/**
 * Why the executed copies cannot be published, one sentence each (empty when they can): a copy
 * is missing, or its cells no longer match the source (the page would show old text or code).
 */
export function executedProblems(notebooksDir: string, executedDir: string): string[] {
  const problems: string[] = [];
  for (const name of lessonNames(notebooksDir)) {
    const executed = path.join(executedDir, `${name}.ipynb`);
    if (!fs.existsSync(executed)) {
      problems.push(`No executed copy of ${name}.ipynb in ${executedDir}.`);
      continue;
    }
    const cells = (file: string) => readNotebook(file).cells.map((c) => `${c.cell_type}\n${text(c.source)}`);
    const [src, run] = [cells(path.join(notebooksDir, `${name}.ipynb`)), cells(executed)];
    const differs = src.findIndex((c, i) => c !== run[i]);
    if (differs >= 0 || src.length !== run.length) {
      const cell = (differs >= 0 ? differs : Math.min(src.length, run.length)) + 1;
      problems.push(`${executed} is out of date: cell ${cell} differs from ${path.join(notebooksDir, name)}.ipynb.`);
    }
  }
  return problems;
}

interface Output {
  output_type: string;
  name?: string; // stream: 'stdout' | 'stderr'
  text?: string | string[];
  data?: Record<string, unknown>;
}

interface Cell {
  id?: string;
  cell_type: string;
  execution_count?: number | null;
  source: string | string[];
  metadata?: { tags?: string[]; [key: string]: unknown };
  outputs?: Output[];
}

interface Notebook {
  cells: Cell[];
  metadata: Record<string, unknown>;
}

function readNotebook(file: string): Notebook {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Notebook;
}

const text = (source: unknown) => (Array.isArray(source) ? source.join('') : String(source ?? ''));

/**
 * What the page needs of an executed notebook. src/plot.ts sends plotly.js itself as an output
 * (for classic Notebook), and each figure with a text/html twin that draws with it; the site loads
 * plotly.js once from assets/ and draws from the plotly JSON, so both go. Consecutive prints to
 * the same stream become one block, with carriage-return progress lines reduced to their last state,
 * as Jupyter shows them.
 */
function forThePage(nb: Notebook): Notebook {
  const cells = nb.cells.map(exerciseForThePage).map(foldsForThePage).map((cell) => {
    if (!cell.outputs) return cell;
    const outputs: Output[] = [];
    for (const o of cell.outputs) {
      if (text(o.data?.['text/html']).includes(`class="${EMBED_CLASS}"`)) continue;
      const last = outputs[outputs.length - 1];
      if (o.output_type === 'stream' && last?.output_type === 'stream' && last.name === o.name) {
        outputs[outputs.length - 1] = { ...last, text: text(last.text) + text(o.text) };
      } else if (o.data && PLOTLY_MIME in o.data) {
        const { 'text/html': _twin, ...data } = o.data;
        outputs.push({ ...o, data });
      } else {
        outputs.push(o);
      }
    }
    return { ...cell, outputs: outputs.map((o) => (o.output_type === 'stream' ? { ...o, text: overwriteCarriageReturns(text(o.text)) } : o)) };
  });
  return { ...nb, cells };
}

/**
 * An exercise cell shows what the learner starts from, the stub, and carries the reference code
 * (the cell without its marker lines) for the template's folded "Solution".
 */
function exerciseForThePage(cell: Cell): Cell {
  if (cell.cell_type !== 'code' || !cell.metadata?.tags?.includes(EXERCISE_TAG)) return cell;
  const source = text(cell.source);
  const stub = stubSource(source); // well-formed: learnerCopies() checked the source notebook
  const metadata = { ...cell.metadata, solution: solutionSource(source), exercise_names: stub.stubs.map((s) => s.name) };
  return { ...cell, source: stub.source, metadata };
}

/**
 * `<details class="hint"><summary>Hint</summary>` … `</details>`, each on its own line, fold a hint
 * in Jupyter, which renders the Markdown between them. nbconvert 6's Markdown renderer would keep
 * that text raw, so those lines travel through it as comments (restoreFolds puts them back).
 */
const FOLD_LINE = /^[ \t]*(?:<details\b[^>]*>(?:[ \t]*<summary\b[^>]*>.*?<\/summary>)?|<summary\b[^>]*>.*?<\/summary>|<\/details>)[ \t]*$/gm;
const FOLD_COMMENT = /<!--lesson:fold ([^ ]*?)-->/g;

function foldsForThePage(cell: Cell): Cell {
  if (cell.cell_type !== 'markdown') return cell;
  return { ...cell, source: text(cell.source).replace(FOLD_LINE, (line) => `\n<!--lesson:fold ${encodeURIComponent(line.trim())}-->\n`) };
}

export function restoreFolds(html: string): string {
  return html.replace(FOLD_COMMENT, (_, line: string) => decodeURIComponent(line));
}

function overwriteCarriageReturns(s: string): string {
  return s
    .replace(/\r+\n/g, '\n')
    .split('\n')
    .map((line) => line.slice(line.lastIndexOf('\r') + 1))
    .join('\n');
}

interface RenderJob {
  key: string; // unique among the jobs, a file name: '03-loss', 'zh.03-loss'
  notebook: Notebook;
}

/** One nbconvert run for all notebooks of both editions (Python starts once); returns key → HTML fragment. */
function renderCells(jobs: RenderJob[], jupyter: string): Map<string, string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'build-site-'));
  try {
    const inputs = jobs.map(({ key, notebook }) => {
      const file = path.join(tmp, `${key}.ipynb`);
      fs.writeFileSync(file, JSON.stringify(forThePage(notebook)));
      return file;
    });
    const args = [
      'nbconvert', '--to', 'html', '--template', 'lesson', '--no-prompt',
      `--TemplateExporter.extra_template_basedirs=${path.join(SITE_DIR, 'nbconvert')}`,
      '--output-dir', path.join(tmp, 'html'), ...inputs,
    ];
    try {
      execFileSync(jupyter, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT') {
        throw new Error(`Cannot run '${jupyter}': the site is rendered with nbconvert. Install it (Debian: apt-get install jupyter-nbconvert) or set JUPYTER=/path/to/jupyter.`);
      }
      throw new Error(`nbconvert failed:\n${e.stderr ?? e.message}`);
    }
    return new Map(jobs.map(({ key }) => [key, restoreFolds(fs.readFileSync(path.join(tmp, 'html', `${key}.html`), 'utf8'))]));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** [path under outDir, source file]: our stylesheet and script, KaTeX's CSS and fonts, plotly.js once. */
function assets(withPlotly: boolean): [string, string][] {
  const katexDist = path.join(path.dirname(require.resolve('katex/package.json')), 'dist');
  const list: [string, string][] = [
    ['assets/site.css', path.join(SITE_DIR, 'site.css')],
    ['assets/lesson.js', path.join(SITE_DIR, 'lesson.js')],
    ['assets/katex/katex.min.css', path.join(katexDist, 'katex.min.css')],
    ...fs.readdirSync(path.join(katexDist, 'fonts')).map((f): [string, string] => [`assets/katex/fonts/${f}`, path.join(katexDist, 'fonts', f)]),
  ];
  if (withPlotly) list.push(['assets/plotly.js', plotlyBundle()]);
  return list;
}

/** The same preference as src/plot.ts: the smaller bundles when installed (ours are cartesian charts). */
function plotlyBundle(): string {
  for (const id of ['plotly.js-cartesian-dist-min', 'plotly.js-dist-min', 'plotly.js-dist']) {
    try {
      return require.resolve(id);
    } catch {
      // try the next distribution
    }
  }
  throw new Error('plotly.js not found in node_modules: run `npm install` (plotly.js-dist is a dependency).');
}

/**
 * Writes `files` under outDir and removes what the previous build wrote but this one did not
 * (a renamed lesson), as listed in the manifest. Files the build never wrote, like
 * lessons/README.md, are left alone.
 */
function writeFiles(outDir: string, files: Map<string, string | Buffer>): void {
  const manifest = path.join(outDir, MANIFEST);
  const previous: string[] = fs.existsSync(manifest) ? JSON.parse(fs.readFileSync(manifest, 'utf8')) : [];
  for (const stale of previous.filter((f) => !files.has(f) && !f.split(/[\\/]/).includes('..'))) {
    fs.rmSync(path.join(outDir, stale), { force: true });
  }
  for (const [rel, content] of files) {
    const file = path.join(outDir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  fs.writeFileSync(manifest, JSON.stringify([...files.keys()], null, 1) + '\n');
}

function main(): void {
  const { values } = parseArgs({
    options: {
      notebooks: { type: 'string', default: path.join(ROOT, 'notebooks') },
      executed: { type: 'string', default: defaultOutDir(process.env.RNN_WORKBOOK_PRESET || undefined) }, // where npm run notebooks wrote them
      out: { type: 'string', default: path.join(ROOT, 'lessons') },
      title: { type: 'string' },
    },
  });
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const site = buildSite({
    notebooksDir: values.notebooks!,
    executedDir: values.executed!,
    outDir: values.out!,
    title: values.title ?? pkg.name,
    description: pkg.description,
  });
  const figures = site.lessons.reduce((n, l) => n + l.figures, 0);
  const rel = path.relative(process.cwd(), site.outDir);
  const out = rel && !rel.startsWith('..') ? rel : site.outDir;
  const n = (count: number, what: string) => `${count} ${what}${count === 1 ? '' : 's'}`;
  const zh = site.zh ? `, and the Chinese edition's ${n(site.zh.lessons.length, 'lesson')} into ${path.join(out, 'zh')}` : '';
  console.log(`Built ${n(site.lessons.length, 'lesson')} (${n(figures, 'figure')}) into ${out}${zh}; open ${path.join(out, 'index.html')} in a browser.`);
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error(`build-site: ${(err as Error).message}`);
    process.exit(1);
  }
}
