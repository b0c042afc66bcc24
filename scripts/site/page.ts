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
}

export interface SiteInfo {
  title: string;
  description: string;
}

const CSP = [
  "default-src 'self' file: data: blob:",
  "script-src 'self' file: 'unsafe-inline'",
  "style-src 'self' file: 'unsafe-inline'",
  "connect-src 'self' file: data: blob:",
].join('; ');

function head(title: string, extra = ''): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="generator" content="rnn-workbook scripts/build-site.ts">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="assets/katex/katex.min.css">
<link rel="stylesheet" href="assets/site.css">${extra}
</head>`;
}

function header(site: SiteInfo, actions = '', position = ''): string {
  return `<a class="skip-link" href="#content">Skip to content</a>
<header class="site-header">
<a class="site-title" href="index.html">${escapeHtml(site.title)}</a>${position && `\n<span class="lesson-position">${position}</span>`}
<nav class="page-actions" aria-label="Page">${actions}</nav>
</header>`;
}

const download = (lesson: PageLesson, label = 'Notebook with solutions') =>
  `<a class="download" href="${escapeHtml(lesson.notebook)}" download title="The lesson as it is taught, every exercise solved">${label}</a>`;

/** The learner's copy: every exercise a stub that throws "not written yet" until it is written. */
const downloadExercises = (lesson: PageLesson, label = 'Exercises only') =>
  `<a class="download download-exercises" href="${escapeHtml(lesson.exercises)}" download title="The same notebook with the solutions taken out: write them, the checks say when you are right">${label}</a>`;

const exerciseCount = (lesson: PageLesson) => {
  const n = lesson.exerciseNames.length;
  return n ? `${n} exercise${n === 1 ? '' : 's'}` : '';
};

export function lessonPage(site: SiteInfo, lessons: PageLesson[], index: number): string {
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
    ? `<nav class="toc" aria-label="On this page"><details open><summary>On this page</summary><ul>
${lesson.toc.map((t) => `<li class="toc-h${t.level}"><a href="#${t.id}">${t.html}</a></li>`).join('\n')}
</ul></details></nav>`
    : '';
  const pager = `<nav class="pager" aria-label="Previous and next lesson">
${prev ? `<a class="pager-prev" rel="prev" href="${escapeHtml(prev.page)}"><span class="pager-label">Previous</span><span class="pager-title">${prev.titleHtml}</span></a>` : `<a class="pager-prev" href="index.html"><span class="pager-label">Back to</span><span class="pager-title">All lessons</span></a>`}
${next ? `<a class="pager-next" rel="next" href="${escapeHtml(next.page)}"><span class="pager-label">Next</span><span class="pager-title">${next.titleHtml}</span></a>` : `<a class="pager-next" href="index.html"><span class="pager-label">Back to</span><span class="pager-title">All lessons</span></a>`}
</nav>`;
  const actions = `<button type="button" class="fold-code" hidden>Fold code</button>\n${download(lesson)}\n${downloadExercises(lesson)}`;
  const scripts = `${lesson.figures ? '<script src="assets/plotly.js"></script>\n' : ''}<script src="assets/lesson.js"></script>`;
  return `${head(`${lesson.title} · ${site.title}`, links.filter(Boolean).join(''))}
<body class="page-lesson">
${header(site, actions, `Lesson ${index + 1} of ${lessons.length}`)}
<div class="layout">
<nav class="sidebar" aria-label="Lessons">
<p class="sidebar-title"><a href="index.html">All lessons</a></p>
<ol>
${sidebar}
</ol>
</nav>
<main id="content">
<article class="lesson">
${lesson.bodyHtml.trim()}
</article>
${pager}
</main>
${toc}
</div>
<footer class="site-footer">Built from <a href="${escapeHtml(lesson.notebook)}">${escapeHtml(lesson.notebook.split('/').pop()!)}</a>. Run it in Jupyter with the tslab kernel; <code>npm run exercises</code> writes the learner's copies to lessons/exercises/.</footer>
${scripts}
</body>
</html>
`;
}

export function indexPage(site: SiteInfo, lessons: PageLesson[]): string {
  const cards = lessons
    .map(
      (l, i) => `<li class="lesson-card">
<h2><a href="${escapeHtml(l.page)}"><span class="lesson-number">${i + 1}</span> ${l.titleHtml}</a></h2>
<div class="lesson-summary">
${l.summaryHtml}
</div>
<p class="lesson-meta">${[download(l, 'Notebook with solutions'), downloadExercises(l, 'Exercises only'), exerciseCount(l), l.figures ? `${l.figures} figure${l.figures === 1 ? '' : 's'}` : ''].filter(Boolean).join(' · ')}</p>
</li>`,
    )
    .join('\n');
  return `${head(site.title)}
<body class="page-index">
${header(site)}
<main id="content" class="index">
<h1>${escapeHtml(site.title)}</h1>
${site.description ? `<p class="site-description">${escapeHtml(site.description)}</p>` : ''}
<ol class="lesson-list">
${cards}
</ol>
</main>
<footer class="site-footer">These pages work offline. Each lesson links to its notebook; run it in Jupyter with the tslab kernel.</footer>
<script src="assets/lesson.js"></script>
</body>
</html>
`;
}
