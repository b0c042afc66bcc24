// The page shell around each lesson, and the index. Everything a page loads is under assets/,
// by relative path, so the site works opened from disk; the CSP below makes the browser refuse
// anything else, even if a notebook output asks for it.
import { escapeHtml } from './html';
import type { TocEntry } from './lesson';

export interface PageLesson {
  page: string; // '03-language-models.html'
  notebook: string; // 'notebooks/03-language-models.ipynb', with solutions
  exercises: string; // 'exercises/03-language-models.ipynb', the learner's copy
  exerciseNames: string[]; // the functions the learner writes in it
  title: string;
  titleHtml: string;
  summaryHtml: string;
  toc: TocEntry[];
  bodyHtml: string;
  figures: number;
  twin?: string; // the same lesson in the other language, relative to this page
}

/** The words of the page shell, per language. */
export interface Strings {
  skip: string;
  withSolutions: string;
  withSolutionsTitle: string;
  exercisesOnly: string;
  exercisesOnlyTitle: string;
  exercises: (n: number) => string;
  figures: (n: number) => string;
  lesson: (i: number, n: number) => string;
  previous: string;
  next: string;
  backTo: string;
  allLessons: string;
  onThisPage: string;
  foldCode: string;
  lessons: string;
  glossary: string;
  builtFrom: (link: string) => string;
  indexFooter: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const STRINGS: Record<'en' | 'zh-CN', Strings> = {
  en: {
    skip: 'Skip to content',
    withSolutions: 'Notebook with solutions',
    withSolutionsTitle: 'The lesson as it is taught, every exercise solved',
    exercisesOnly: 'Exercises only',
    exercisesOnlyTitle: 'The same notebook with the solutions taken out: write them, the checks say when you are right',
    exercises: (n) => (n ? plural(n, 'exercise') : ''),
    figures: (n) => (n ? plural(n, 'figure') : ''),
    lesson: (i, n) => `Lesson ${i} of ${n}`,
    previous: 'Previous',
    next: 'Next',
    backTo: 'Back to',
    allLessons: 'All lessons',
    onThisPage: 'On this page',
    foldCode: 'Fold code',
    lessons: 'Lessons',
    glossary: 'Glossary',
    builtFrom: (link) => `Built from ${link}. Run it in Jupyter with the tslab kernel; <code>npm run exercises</code> writes the learner's copies to lessons/exercises/.`,
    indexFooter: 'These pages work offline. Each lesson links to its notebook; run it in Jupyter with the tslab kernel.',
  },
  'zh-CN': {
    skip: '跳到正文',
    withSolutions: '笔记本（含参考答案）',
    withSolutionsTitle: '本课的完整笔记本，每道练习都已写好',
    exercisesOnly: '仅练习',
    exercisesOnlyTitle: '同一个笔记本，参考答案已删去：自己写，检查会告诉你是否正确',
    exercises: (n) => (n ? `${n} 道练习` : ''),
    figures: (n) => (n ? `${n} 张图` : ''),
    lesson: (i, n) => `第 ${i} 课，共 ${n} 课`,
    previous: '上一课',
    next: '下一课',
    backTo: '返回',
    allLessons: '全部课程',
    onThisPage: '本页内容',
    foldCode: '折叠代码',
    lessons: '课程',
    glossary: '术语表',
    builtFrom: (link) => `由 ${link} 生成。在 Jupyter 中用 tslab 内核运行它；<code>npm run exercises</code> 会把练习版写到 lessons/exercises/zh/。`,
    indexFooter: '这些页面无需联网。每一课都链接到它的笔记本；在 Jupyter 中用 tslab 内核运行。',
  },
};

export interface SiteInfo {
  title: string;
  description: string;
  lang?: 'en' | 'zh-CN'; // default 'en'
  base?: string; // the site's root relative to these pages ('' or '../'), where assets/ is
  twinIndex?: string; // the other language's index, relative to these pages
  twinLabel?: string; // '中文' on English pages, 'English' on Chinese ones
  twinLang?: string; // its lang attribute
  glossary?: string; // the glossary page, relative to these pages
}

const CSP = [
  "default-src 'self' file: data: blob:",
  "script-src 'self' file: 'unsafe-inline'",
  "style-src 'self' file: 'unsafe-inline'",
  "connect-src 'self' file: data: blob:",
].join('; ');

const strings = (site: SiteInfo) => STRINGS[site.lang ?? 'en'];

function head(site: SiteInfo, title: string, extra = ''): string {
  const base = site.base ?? '';
  return `<!DOCTYPE html>
<html lang="${site.lang ?? 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="generator" content="rnn-workbook scripts/build-site.ts">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${base}assets/katex/katex.min.css">
<link rel="stylesheet" href="${base}assets/site.css">${extra}
</head>`;
}

/** The link to the same page in the other language (none when it has no twin). */
function languageSwitch(site: SiteInfo, twin: string | undefined): string {
  if (!twin || !site.twinLabel) return '';
  return `\n<a class="language-switch" href="${escapeHtml(twin)}" hreflang="${escapeHtml(site.twinLang ?? '')}" lang="${escapeHtml(site.twinLang ?? '')}">${escapeHtml(site.twinLabel)}</a>`;
}

function header(site: SiteInfo, actions = '', position = ''): string {
  return `<a class="skip-link" href="#content">${strings(site).skip}</a>
<header class="site-header">
<a class="site-title" href="index.html">${escapeHtml(site.title)}</a>${position && `\n<span class="lesson-position">${position}</span>`}
<nav class="page-actions" aria-label="Page">${actions}</nav>
</header>`;
}

const download = (site: SiteInfo, lesson: PageLesson) =>
  `<a class="download" href="${escapeHtml(lesson.notebook)}" download title="${escapeHtml(strings(site).withSolutionsTitle)}">${strings(site).withSolutions}</a>`;

/** The learner's copy: every exercise a stub that throws "not written yet" until it is written. */
const downloadExercises = (site: SiteInfo, lesson: PageLesson) =>
  `<a class="download download-exercises" href="${escapeHtml(lesson.exercises)}" download title="${escapeHtml(strings(site).exercisesOnlyTitle)}">${strings(site).exercisesOnly}</a>`;

export function lessonPage(site: SiteInfo, lessons: PageLesson[], index: number): string {
  const t = strings(site);
  const base = site.base ?? '';
  const lesson = lessons[index];
  const prev = lessons[index - 1];
  const next = lessons[index + 1];
  const links = [prev && `\n<link rel="prev" href="${prev.page}">`, next && `\n<link rel="next" href="${next.page}">`];
  const sidebar = lessons
    .map((l, i) => {
      const current = i === index ? ' aria-current="page"' : '';
      return `<li><a href="${escapeHtml(l.page)}"${current}>${l.titleHtml}</a></li>`;
    })
    .join('\n');
  const toc = lesson.toc.length
    ? `<nav class="toc" aria-label="${t.onThisPage}"><details open><summary>${t.onThisPage}</summary><ul>
${lesson.toc.map((t) => `<li class="toc-h${t.level}"><a href="#${t.id}">${t.html}</a></li>`).join('\n')}
</ul></details></nav>`
    : '';
  const pager = `<nav class="pager" aria-label="${t.previous} / ${t.next}">
${prev ? `<a class="pager-prev" rel="prev" href="${escapeHtml(prev.page)}"><span class="pager-label">${t.previous}</span><span class="pager-title">${prev.titleHtml}</span></a>` : `<a class="pager-prev" href="index.html"><span class="pager-label">${t.backTo}</span><span class="pager-title">${t.allLessons}</span></a>`}
${next ? `<a class="pager-next" rel="next" href="${escapeHtml(next.page)}"><span class="pager-label">${t.next}</span><span class="pager-title">${next.titleHtml}</span></a>` : `<a class="pager-next" href="index.html"><span class="pager-label">${t.backTo}</span><span class="pager-title">${t.allLessons}</span></a>`}
</nav>`;
  const actions = `<button type="button" class="fold-code" hidden>${t.foldCode}</button>\n${download(site, lesson)}\n${downloadExercises(site, lesson)}${languageSwitch(site, lesson.twin)}`;
  const scripts = `${lesson.figures ? `<script src="${base}assets/plotly.js"></script>\n` : ''}<script src="${base}assets/lesson.js"></script>`;
  const glossary = site.glossary ? `\n<p class="sidebar-title"><a href="${escapeHtml(site.glossary)}">${t.glossary}</a></p>` : '';
  return `${head(site, `${lesson.title} · ${site.title}`, links.filter(Boolean).join(''))}
<body class="page-lesson">
${header(site, actions, t.lesson(index + 1, lessons.length))}
<div class="layout">
<nav class="sidebar" aria-label="${t.lessons}">
<p class="sidebar-title"><a href="index.html">${t.allLessons}</a></p>
<ol>
${sidebar}
</ol>${glossary}
</nav>
<main id="content">
<article class="lesson">
${lesson.bodyHtml.trim()}
</article>
${pager}
</main>
${toc}
</div>
<footer class="site-footer">${t.builtFrom(`<a href="${escapeHtml(lesson.notebook)}">${escapeHtml(lesson.notebook.split('/').pop()!)}</a>`)}</footer>
${scripts}
</body>
</html>
`;
}

export function indexPage(site: SiteInfo, lessons: PageLesson[]): string {
  const t = strings(site);
  const cards = lessons
    .map(
      (l, i) => `<li class="lesson-card">
<h2><a href="${escapeHtml(l.page)}"><span class="lesson-number">${i + 1}</span> ${l.titleHtml}</a></h2>
<div class="lesson-summary">
${l.summaryHtml}
</div>
<p class="lesson-meta">${[download(site, l), downloadExercises(site, l), t.exercises(l.exerciseNames.length), t.figures(l.figures)].filter(Boolean).join(' · ')}</p>
</li>`,
    )
    .join('\n');
  const glossary = site.glossary ? `<p class="glossary-link"><a href="${escapeHtml(site.glossary)}">${t.glossary}</a></p>\n` : '';
  return `${head(site, site.title)}
<body class="page-index">
${header(site, languageSwitch(site, site.twinIndex))}
<main id="content" class="index">
<h1>${escapeHtml(site.title)}</h1>
${site.description ? `<p class="site-description">${escapeHtml(site.description)}</p>` : ''}
${glossary}<ol class="lesson-list">
${cards}
</ol>
</main>
<footer class="site-footer">${t.indexFooter}</footer>
<script src="${site.base ?? ''}assets/lesson.js"></script>
</body>
</html>
`;
}

/** A page of prose beside the lessons (the Chinese edition's glossary), in the same shell. */
export function textPage(site: SiteInfo, title: string, bodyHtml: string, twin?: string): string {
  const t = strings(site);
  return `${head(site, `${title} · ${site.title}`)}
<body class="page-text">
${header(site, languageSwitch(site, twin))}
<main id="content" class="index">
<article class="lesson">
${bodyHtml.trim()}
</article>
<p><a href="index.html">${t.allLessons}</a></p>
</main>
<script src="${site.base ?? ''}assets/lesson.js"></script>
</body>
</html>
`;
}
