// The browser checks every built lesson site must pass (scripts/build-site.ts), shared by
// test/lessons.test.ts (a site built from sample notebooks) and test/notebooks.test.ts (the real
// lessons, built from the copies its notebook tests just executed). Not a test file itself: it
// defines tests when a test file calls checkSite() inside a describe.
//
// The site is built in a `before` hook (siteBuiltBefore), so a site that depends on earlier tests
// in the same file (the notebook runs) is built after them; if it cannot be built, every check
// fails with the reason. Screenshots go to test-output/screenshots/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Browser, BrowserContext, chromium, type Page } from 'playwright-core';
import { BuiltLesson, BuiltSite, lessonNames } from '../scripts/build-site';
import { learnerCopy, type Notebook } from '../scripts/exercises';
import { PLOTLY_MIME } from '../src/plot';
import { CHROMIUM, chromiumPath } from '../scripts/prerequisites';
import { missing } from './needs';

export const ROOT = path.resolve(__dirname, '..');
export const SCREENSHOTS = path.join(ROOT, 'test-output', 'screenshots');

// ---------------------------------------------------------------------------------------------
// Browser, temp dirs, snapshots.

let launched: Browser | undefined;

/** Registers hooks in the current suite that launch headless Chromium before its tests and close it after. */
export function browserHooks(): void {
  before(async () => {
    if (missing(CHROMIUM)) return; // browser() says so in each test that needs it
    launched = await chromium.launch({
      executablePath: chromiumPath(),
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await launched?.close();
    launched = undefined;
  });
}

/** The browser launched by browserHooks(). */
export function browser(): Browser {
  if (!launched) throw new Error(missing(CHROMIUM) ?? 'no browser: call browserHooks() in the suite (Chromium failed to launch?)');
  return launched;
}

const tmpDirs: string[] = [];

/** A fresh temp dir, removed by removeTmpDirs(). */
export function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lessons-test-'));
  tmpDirs.push(dir);
  return dir;
}

export function removeTmpDirs(): void {
  for (const dir of tmpDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Copies the complete .ipynb files in `dir` to `to` (a half-written one, which does not parse, is
 * left out: treated as missing), so a notebook rewritten while the tests run cannot change the site
 * under test.
 */
export function snapshotNotebooks(dir: string, to: string = tmpDir()): string {
  fs.mkdirSync(to, { recursive: true });
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')) : []) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    try {
      JSON.parse(text);
      fs.writeFileSync(path.join(to, f), text);
    } catch {
      // half-written: treated as missing
    }
  }
  return to;
}

/** Copies what lies beside the notebooks in `dir` (images the lessons show), but no notebooks. */
export function copyNotebookAssets(dir: string, to: string): void {
  if (!fs.existsSync(dir)) return;
  fs.cpSync(dir, to, {
    recursive: true,
    filter: (src) => !src.endsWith('.ipynb') && path.basename(src) !== '.ipynb_checkpoints',
  });
}

/**
 * Builds the site in a `before` hook of the current suite and returns its getter. A build that
 * throws does not fail the hook (that would only cancel the checks): every check that asks for the
 * site fails with the build's error instead.
 */
export function siteBuiltBefore(build: () => BuiltSite): () => BuiltSite {
  let site: BuiltSite | undefined;
  let error: unknown = new Error('the site was never built: its before hook did not run');
  before(() => {
    try {
      site = build();
      error = undefined;
    } catch (e) {
      error = e;
    }
  });
  return () => {
    if (error !== undefined || !site) throw error;
    return site;
  };
}

// ---------------------------------------------------------------------------------------------
// What every built page must satisfy.

interface NotebookFacts {
  figures: number; // plotly outputs, counted in the executed .ipynb
  hasMath: boolean; // a markdown cell contains '$'
}

export function notebookFacts(file: string): NotebookFacts {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: { cell_type: string; source: string | string[]; outputs?: { data?: object }[] }[] };
  const text = (c: { source: string | string[] }) => (Array.isArray(c.source) ? c.source.join('') : c.source);
  return {
    figures: nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.data && PLOTLY_MIME in o.data).length,
    hasMath: nb.cells.some((c) => c.cell_type === 'markdown' && text(c).includes('$')),
  };
}

interface PageReport {
  requests: string[];
  errors: string[];
  charts: number;
}

/** Opens `file` with the network cut off: any request that is not file: is aborted and recorded. */
export async function openPage(context: BrowserContext, file: string) {
  const page = await context.newPage();
  const report: PageReport = { requests: [], errors: [], charts: 0 };
  page.on('request', (r) => report.requests.push(r.url()));
  page.on('pageerror', (e) => report.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && report.errors.push(`console: ${m.text()}`));
  await page.route(/^(?!file:)/, (route) => route.abort('blockedbyclient'));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 120_000 }); // plotly.js alone takes seconds to parse on a busy machine
  return { page, report };
}

const countCharts = `Array.from(document.querySelectorAll('.js-plotly-plot')).filter((p) => p.querySelector('.main-svg')).length`;

interface PageFacts {
  katex: number;
  katexErrors: number;
  rawMath: string[] | null; // $…$ left as text in markdown
  links: string[];
  images: string[];
  brokenImages: string[];
  missingAnchors: string[];
  h1: string;
  prev: string | null;
  next: string | null;
  download: string | null;
  pwned: string | null;
  embedRan: boolean;
  plotlyScripts: number;
  background: number; // luminance 0..1
  tickText: number | null;
}

// A string, not a function: tsx's helpers (__name) do not exist inside the page.
const PAGE_FACTS = `(() => {
  const textOutside = (root, skip) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let text = '';
    for (let n = walker.nextNode(); n; n = walker.nextNode()) if (!n.parentElement.closest(skip)) text += n.textContent;
    return text;
  };
  const luminance = (css) => {
    const [r, g, b] = css.match(/[\\d.]+/g).map(Number);
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
  };
  const tick = document.querySelector('.js-plotly-plot .xtick text');
  return {
    katex: document.querySelectorAll('.katex').length,
    katexErrors: document.querySelectorAll('.katex-error').length,
    rawMath: Array.from(document.querySelectorAll('.cell-markdown, .lesson-summary'))
      .map((el) => textOutside(el, 'code, pre, .katex')).join('\\n').match(/\\$[^$]+\\$/g),
    links: Array.from(document.querySelectorAll('a[href]')).map((a) => a.getAttribute('href')),
    images: Array.from(document.querySelectorAll('img[src]')).map((img) => img.getAttribute('src')),
    brokenImages: Array.from(document.images).filter((img) => !img.complete || img.naturalWidth === 0).map((img) => img.src.slice(0, 80)),
    missingAnchors: Array.from(document.querySelectorAll('a[href^="#"]')).map((a) => a.getAttribute('href').slice(1))
      .filter((id) => id && !document.getElementById(id) && !document.getElementById(decodeURIComponent(id))),
    h1: document.querySelector('.lesson h1')?.textContent ?? '',
    prev: document.querySelector('a[rel="prev"]')?.getAttribute('href') ?? null,
    next: document.querySelector('a[rel="next"]')?.getAttribute('href') ?? null,
    download: document.querySelector('a.download')?.getAttribute('href') ?? null,
    pwned: window.__pwned ?? null,
    embedRan: window.__embedRan ?? false,
    plotlyScripts: Array.from(document.scripts).filter((el) => /plotly/i.test(el.src) || el.text.length > 100000).length,
    background: luminance(getComputedStyle(document.body).backgroundColor),
    tickText: tick ? luminance(getComputedStyle(tick).fill) : null,
  };
})()`;

/**
 * An exercise cell shows the learner's stub, then the reference code folded under "Solution"; hints
 * and solutions start folded and open on a click; each check cell shows its ✓ line.
 */
async function checkExercises(page: Page, lesson: BuiltLesson, lang: BuiltSite['lang']): Promise<void> {
  const labels = lang === 'zh-CN' ? { solution: /^参考答案$/, hint: /提示/ } : { solution: /^Solution$/, hint: /\bhint\b/i };
  const cells = await page.$$eval('section.celltag_exercise', (els) => els.map((el) => ({
    names: (el.getAttribute('data-exercise') ?? '').split(' '),
    stub: el.querySelector('details.cell-input pre')?.textContent ?? '',
    solution: el.querySelector('details.solution pre')?.textContent ?? '',
    highlighted: el.querySelectorAll('details.solution pre span').length,
  })));
  assert.deepEqual(cells.flatMap((c) => c.names), lesson.exerciseNames, `${lesson.page}: one exercise cell per solution region`);
  for (const cell of cells) {
    for (const name of cell.names) {
      assert.ok(cell.stub.includes(`throw rw.notWrittenYet("${name}");`), `${lesson.page}: the exercise cell shows ${name}'s stub`);
      assert.ok(cell.solution.includes(name), `${lesson.page}: the solution shows ${name}`);
    }
    assert.ok(!cell.solution.includes('notWrittenYet') && !/BEGIN SOLUTION|END SOLUTION/.test(cell.solution), `${lesson.page}: the solution is the reference code, markers removed`);
    assert.ok(cell.highlighted > 0, `${lesson.page}: the solution is syntax-highlighted`);
  }
  const checks = await page.$$eval('section.celltag_check', (els) => els.map((el) => (el.querySelector('.cell-outputs')?.textContent ?? '').trim()));
  assert.equal(checks.length, cells.length, `${lesson.page}: a check cell per exercise cell`);
  for (const out of checks) assert.match(out, /^✓ /m, `${lesson.page}: the check prints its ✓ line`);
  for (const out of checks) assert.doesNotMatch(out, /^✗ /m, `${lesson.page}: no check fails`);

  const folds = page.locator('details.hint, details.solution');
  const n = await folds.count();
  assert.ok(await page.locator('details.hint').count() >= cells.length, `${lesson.page}: a hint per exercise`);
  for (let i = 0; i < n; i++) {
    const fold = folds.nth(i);
    const kind = await fold.getAttribute('class');
    const content = fold.locator(':scope > :not(summary)').first();
    assert.equal(await fold.evaluate((d) => (d as HTMLDetailsElement).open), false, `${lesson.page}: ${kind} ${i + 1} starts folded`);
    assert.equal(await content.isVisible(), false, `${lesson.page}: ${kind} ${i + 1} hides its content`);
    assert.match((await fold.locator(':scope > summary').textContent()) ?? '', kind === 'solution' ? labels.solution : labels.hint);
    await fold.locator(':scope > summary').click();
    assert.equal(await content.isVisible(), true, `${lesson.page}: ${kind} ${i + 1} shows its content once opened`);
    assert.ok(((await content.textContent()) ?? '').trim().length > 0, `${lesson.page}: ${kind} ${i + 1} is not empty`);
  }
}

export interface SiteUnderTest {
  label: string; // screenshot file prefix
  lessons: string[]; // the lesson names the site must have, known when the tests are defined (one page test each)
  site: () => BuiltSite; // from siteBuiltBefore(); throws why the site could not be built
  notebooksDir: string; // the source notebooks it was built from
  executedDir: string; // their executed copies
}

/** Defines the checks of one built site in the current suite; call browserHooks() in it or above it. */
export function checkSite({ label, lessons, site: getSite, notebooksDir, executedDir }: SiteUnderTest): void {
  const pages = ['index.html', ...lessons.map((name) => `${name}.html`)];

  test('writes the index, one page per notebook, the notebooks and the assets', () => {
    const site = getSite();
    assert.deepEqual(site.lessons.map((l) => l.name), lessons, 'one lesson per notebook the tests expect');
    assert.deepEqual(site.lessons.map((l) => l.name), lessonNames(notebooksDir));
    const assets = ['site.css', 'lesson.js', 'katex/katex.min.css'].map((f) => `${site.assetsDir}/${f}`); // the Chinese edition shares the English assets
    for (const file of [...pages, ...site.lessons.flatMap((l) => [l.notebook, l.exercises]), ...assets]) {
      assert.ok(fs.existsSync(path.join(site.outDir, file)), `${file} is missing from ${site.outDir}`);
    }
    const figures = site.lessons.reduce((n, l) => n + l.figures, 0);
    if (figures > 0 || site.lang === 'en') assert.equal(fs.existsSync(path.join(site.outDir, site.assetsDir, 'plotly.js')), figures > 0, 'plotly.js is copied once, only when a lesson has figures');
    for (const lesson of site.lessons) {
      const copy = fs.readFileSync(path.join(site.outDir, lesson.notebook), 'utf8');
      assert.equal(copy, fs.readFileSync(path.join(notebooksDir, `${lesson.name}.ipynb`), 'utf8'), 'the download is the un-executed source notebook');
      if (site.lang === 'zh-CN') continue; // the English execution's cells and the zh notebook's are compared by test/zh.test.ts
      assert.deepEqual(lesson.mathErrors, [], `${lesson.name}: KaTeX cannot typeset some formulas`);
      const source = JSON.parse(fs.readFileSync(path.join(notebooksDir, `${lesson.name}.ipynb`), 'utf8')) as Notebook;
      const exercises = fs.readFileSync(path.join(site.outDir, lesson.exercises), 'utf8');
      assert.equal(exercises, `${JSON.stringify(learnerCopy(source, lesson.name).notebook, null, 1)}\n`, 'the exercises download is the learner\'s copy');
      assert.ok(!/BEGIN SOLUTION|END SOLUTION/.test(exercises), `${lesson.exercises} holds no solution region`);
    }
  });

  test('the lessons have exercises, each with a stub, a solution and a check', () => {
    const site = getSite();
    assert.ok(site.lessons.some((l) => l.exerciseNames.length > 0), 'no lesson has a // BEGIN SOLUTION region');
  });

  test('"Mark as done" under an exercise is remembered across reloads', async () => {
    const site = getSite();
    const lesson = site.lessons.find((l) => l.exerciseNames.length > 0);
    assert.ok(lesson, 'the lessons have exercises');
    const context = await browser().newContext();
    try {
      const { page } = await openPage(context, path.join(site.outDir, lesson.page));
      const boxes = page.locator('section.celltag_exercise .exercise-done input[type=checkbox]');
      assert.equal(await boxes.count(), await page.locator('section.celltag_exercise').count(), 'one box per exercise cell');
      assert.equal(await boxes.first().isChecked(), false);
      await boxes.first().check();
      await page.reload();
      assert.equal(await boxes.first().isChecked(), true, 'checked after a reload');
      if ((await boxes.count()) > 1) assert.equal(await boxes.nth(1).isChecked(), false, 'only the exercise that was marked');
      await boxes.first().uncheck();
      await page.reload();
      assert.equal(await boxes.first().isChecked(), false, 'unchecked after a reload');
    } finally {
      await context.close();
    }
  });

  for (const scheme of ['light', 'dark'] as const) {
    for (const [i, pageFile] of pages.entries()) {
      test(`${pageFile} (${scheme}) loads only file: URLs, without errors, and renders its content`, async (t) => {
        const site = getSite();
        const name = lessons[i - 1]; // undefined for the index
        const at = name === undefined ? -1 : site.lessons.findIndex((l) => l.name === name);
        const lesson = site.lessons[at];
        if (name !== undefined) assert.ok(lesson, `the site has no lesson ${name}`);
        const context = await browser().newContext({ colorScheme: scheme, viewport: { width: 1400, height: 900 } });
        try {
          const { page, report } = await openPage(context, path.join(site.outDir, pageFile));
          const facts = lesson
            ? notebookFacts(path.join(executedDir, `${lesson.name}.ipynb`))
            : { figures: 0, hasMath: site.lessons.some((l) => l.summaryHtml.includes('class="katex"')) };

          await page.waitForFunction(`${countCharts} >= ${facts.figures}`, undefined, { timeout: 20_000 }).catch(() => undefined);
          report.charts = (await page.evaluate(countCharts)) as number;
          await page.screenshot({ path: path.join(SCREENSHOTS, `${label}-${pageFile.replace(/\.html$/, '')}-${scheme}.png`), fullPage: true });

          assert.deepEqual(report.requests.filter((u) => !u.startsWith('file:')), [], 'every request stays on disk');
          assert.deepEqual(report.errors, []);
          assert.equal(report.charts, facts.figures, 'one drawn chart per plotly output in the executed notebook');

          const dom = (await page.evaluate(PAGE_FACTS)) as PageFacts;

          if (facts.hasMath) assert.ok(dom.katex > 0, 'maths is typeset with KaTeX');
          assert.equal(dom.katexErrors, 0, 'KaTeX could typeset every formula');
          assert.equal(dom.rawMath, null, `no $…$ left untypeset in the text: ${dom.rawMath}`);
          assert.deepEqual(dom.missingAnchors, [], 'in-page links point at existing headings');
          // Links the notebook itself makes out of the site (say to ../src/) are reported, not failed.
          const outside = lesson?.brokenLinks ?? [];
          if (outside.length && scheme === 'light') t.diagnostic(`${pageFile} links out of the site: ${outside.join(', ')}`);
          for (const href of [...dom.links, ...dom.images].filter((h) => !/^(#|[a-z]+:)/i.test(h) && !outside.includes(h))) {
            const target = path.resolve(site.outDir, decodeURI(href.split('#')[0]));
            assert.ok(fs.existsSync(target), `${pageFile} links to ${href}, which does not exist`);
          }
          assert.deepEqual(dom.brokenImages, [], 'every image loads');
          assert.equal(dom.pwned, null, 'text from outputs is escaped, never run');
          assert.equal(dom.embedRan, false, 'the plotly.js embedded by rw.plotSetup() is dropped');
          assert.equal(dom.plotlyScripts, facts.figures ? 1 : 0, 'plotly.js loads once, from assets/, on pages with figures');
          if (scheme === 'dark') assert.ok(dom.background < 0.2, 'dark mode follows the system');
          else assert.ok(dom.background > 0.8, 'light mode follows the system');
          if (dom.tickText !== null) assert.ok(scheme === 'dark' ? dom.tickText > 0.6 : dom.tickText < 0.4, 'chart text contrasts with the page');

          if (lesson) {
            assert.equal(dom.h1.replace('¶', '').trim(), lesson.title);
            assert.equal(dom.download, lesson.notebook);
            assert.equal(dom.prev, site.lessons[at - 1]?.page ?? null);
            assert.equal(dom.next, site.lessons[at + 1]?.page ?? null);
            if (scheme === 'light') {
              await checkExercises(page, lesson, site.lang); // opens every hint and solution
              assert.deepEqual(report.errors, [], 'no errors after opening the hints and solutions');
            }
          } else {
            for (const l of site.lessons) assert.ok(dom.links.includes(l.page), `the index links to ${l.page}`);
          }
        } finally {
          await context.close();
        }
      });
    }
  }

  test('the index shows every lesson title and summary', async () => {
    const site = getSite();
    const context = await browser().newContext();
    try {
      const { page } = await openPage(context, path.join(site.outDir, 'index.html'));
      const cards = await page.$$eval('.lesson-card', (els) => els.map((el) => ({
        title: el.querySelector('h2')!.textContent!,
        summary: el.querySelector('.lesson-summary')!.textContent!.trim(),
      })));
      assert.equal(cards.length, site.lessons.length);
      cards.forEach((card, i) => {
        assert.ok(card.title.includes(site.lessons[i].title.replace(/\$[^$]*\$/g, '').trim()), `card ${i + 1} shows "${site.lessons[i].title}"`);
        assert.ok(card.summary.length > 0, `${site.lessons[i].name} has a summary (first paragraph after its # heading)`);
      });
    } finally {
      await context.close();
    }
  });

  test('printing unfolds the code, drops navigation and stays light', async () => {
    const site = getSite();
    const context = await browser().newContext({ colorScheme: 'dark' });
    try {
      const lesson = site.lessons[0];
      const { page } = await openPage(context, path.join(site.outDir, lesson.page));
      await page.waitForFunction(`${countCharts} >= ${lesson.figures}`, undefined, { timeout: 20_000 });
      await page.emulateMedia({ media: 'print', colorScheme: 'dark' });
      const printed = await page.evaluate(() => ({
        sidebar: getComputedStyle(document.querySelector('.sidebar')!).display,
        hiddenCode: Array.from(document.querySelectorAll('details.cell-input pre')).filter((p) => (p as HTMLElement).offsetHeight === 0).length,
        background: getComputedStyle(document.body).backgroundColor,
        tickFill: document.querySelector('.xtick text') ? getComputedStyle(document.querySelector('.xtick text')!).fill : null,
      }));
      await page.screenshot({ path: path.join(SCREENSHOTS, `${label}-${lesson.name}-print.png`), fullPage: true });
      assert.equal(printed.sidebar, 'none');
      assert.equal(printed.hiddenCode, 0, 'folded code cells are printed too');
      assert.equal(printed.background, 'rgb(255, 255, 255)');
      if (lesson.figures) assert.notEqual(printed.tickFill, 'rgb(230, 237, 243)', 'charts print with their light-page colours');
    } finally {
      await context.close();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The Chinese edition beside the English one (issue 15).

export interface EditionsUnderTest {
  label: string;
  site: () => BuiltSite; // the English site; its .zh is the Chinese edition
}

/** The first font that actually drew the text of `selector` (Chromium's own answer, over CDP). */
async function renderedFonts(page: Page, selector: string): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('DOM.enable');
  await cdp.send('CSS.enable');
  const { root } = await cdp.send('DOM.getDocument');
  const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
  const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
  return fonts.filter((f) => f.glyphCount > 0).map((f) => f.familyName);
}

/** Checks of the two editions together: the language switch both ways, CJK fonts, the glossary, Chinese labels. */
export function checkEditions({ label, site: getSite }: EditionsUnderTest): void {
  const zhOf = () => {
    const zh = getSite().zh;
    assert.ok(zh, 'the site has no Chinese edition (notebooks/zh/NN-name.ipynb)');
    return zh;
  };

  test('the language switch leads from every page to its twin, both ways, by a click', async () => {
    const site = getSite();
    const zh = zhOf();
    const context = await browser().newContext();
    try {
      const pairs: [string, string][] = [
        [path.join(site.outDir, 'index.html'), path.join(zh.outDir, 'index.html')],
        ...zh.lessons.map((l): [string, string] => [path.join(site.outDir, l.page), path.join(zh.outDir, l.page)]),
      ];
      const page = await context.newPage();
      await page.route(/^(?!file:)/, (route) => route.abort('blockedbyclient'));
      for (const [en, zhPage] of pairs) {
        for (const [from, to, lang] of [[en, zhPage, 'zh-CN'], [zhPage, en, 'en']] as const) {
          await page.goto(pathToFileURL(from).href, { waitUntil: 'domcontentloaded' });
          await Promise.all([page.waitForURL(pathToFileURL(to).href, { waitUntil: 'domcontentloaded' }), page.locator('a.language-switch').click()]);
          assert.equal(await page.evaluate(() => document.documentElement.lang), lang, `${path.basename(from)} → its twin in ${lang}`);
        }
      }
    } finally {
      await context.close();
    }
  });

  test('the Chinese pages are lang="zh-CN" and draw their Chinese with a CJK system font, offline', async () => {
    const zh = zhOf();
    const context = await browser().newContext();
    try {
      const lesson = zh.lessons[0]!;
      const { page, report } = await openPage(context, path.join(zh.outDir, lesson.page));
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
      const stack = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
      assert.match(stack, /^"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif/);
      const fonts = await renderedFonts(page, '.lesson h1');
      assert.ok(fonts.some((f) => /CJK|Source Han|PingFang|YaHei|WenQuanYi|Hei|Song|Ming/i.test(f)), `the title's Chinese is drawn with ${fonts.join(', ')}, not a CJK font`);
      const shot = await page.locator('.lesson h1').screenshot({ path: path.join(SCREENSHOTS, `${label}-zh-title.png`) });
      assert.ok(shot.length > 1000, 'the title renders (a non-blank screenshot)');
      assert.deepEqual(report.requests.filter((u) => !u.startsWith('file:')), []);
      assert.deepEqual(report.errors, []);
      const done = page.locator('.exercise-done').first();
      if (await done.count()) assert.equal((await done.textContent())?.trim(), '标记为完成');
    } finally {
      await context.close();
    }
  });

  test('the Chinese charts carry the Chinese of the figures.json beside the zh notebook', async () => {
    const zh = zhOf();
    const lesson = zh.lessons.find((l) => l.figures > 0);
    if (!lesson) return;
    const context = await browser().newContext();
    try {
      const { page } = await openPage(context, path.join(zh.outDir, lesson.page));
      await page.waitForFunction(`${countCharts} >= ${lesson.figures}`, undefined, { timeout: 20_000 });
      const texts = await page.$$eval('.js-plotly-plot .gtitle, .js-plotly-plot .xtitle, .js-plotly-plot .ytitle, .js-plotly-plot .legendtext', (els) => els.map((e) => e.textContent ?? ''));
      assert.ok(texts.some((t) => /[\u4e00-\u9fff]/.test(t)), `no chart text in Chinese: ${texts.join(' | ')}`);
    } finally {
      await context.close();
    }
  });

  test('the Chinese index links the glossary, which renders as a table', async () => {
    const zh = zhOf();
    assert.equal(zh.glossary, 'glossary.html', 'notebooks/zh/glossary.md becomes zh/glossary.html');
    const context = await browser().newContext();
    try {
      const { page, report } = await openPage(context, path.join(zh.outDir, 'index.html'));
      await Promise.all([page.waitForURL(/glossary\.html$/), page.locator('a[href="glossary.html"]').first().click()]);
      assert.ok((await page.locator('.lesson table tr').count()) > 2, 'the glossary is a table');
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
      assert.deepEqual(report.errors, []);
      assert.deepEqual(report.requests.filter((u) => !u.startsWith('file:')), []);
    } finally {
      await context.close();
    }
  });
}
