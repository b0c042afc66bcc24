// One lesson page's content, from nbconvert's rendering of an executed notebook: maths typeset,
// headings made unique, and the title, summary and table of contents read off the result.
import { balancedElement, escapeHtml, MathError, plainText, typesetMath } from './html';

export interface TocEntry {
  level: number; // 2 or 3
  id: string; // as nbconvert wrote it (percent-encoded), so '#' + id is a working link
  html: string; // heading content, maths typeset, links unwrapped
}

export interface LessonContent {
  title: string; // plain text, for <title>
  titleHtml: string;
  summaryHtml: string; // first paragraph after the title, plus a "What you will learn" list if any
  toc: TocEntry[];
  bodyHtml: string;
  figures: number; // plotly figures drawn by assets/lesson.js
  formulas: number;
  mathErrors: MathError[];
  localLinks: string[]; // relative href targets in the body, after lesson links became pages
  localImages: string[]; // relative src of images, relative to the notebook
}

const MARKDOWN_REGION = /<!--lesson:markdown-->([\s\S]*?)<!--\/lesson:markdown-->/g;
const HEADING = /<h([1-6]) id="([^"]*)">([\s\S]*?)<\/h\1>/g;
const ANCHOR_LINK = /<a class="anchor-link"[^>]*>[\s\S]*?<\/a>/g;
const LEARN = /what you('ll| will) learn|you will learn|learning (goals|objectives)|学习目标|你将学到|本节(将|要)?学/i;

const ATTRIBUTE = /\b(href|src)="([^"]*)"/g;
const LOCAL = /^(?![a-z][a-z0-9+.-]*:|\/\/|#|\/)/i; // neither a URL, an absolute path nor a fragment

/**
 * `fragment` is what scripts/site/nbconvert/lesson rendered; `fallbackTitle` is used when there is
 * no `# ` heading. Links to another lesson's .ipynb become links to its page.
 */
export function lessonContent(fragment: string, fallbackTitle: string, lessons: string[] = []): LessonContent {
  const macros: Record<string, string> = {};
  const mathErrors: MathError[] = [];
  const typeset = (html: string) => typesetMath(html, macros, mathErrors);
  const retypeset = (html: string) => typesetMath(html, macros, []); // already reported once from the body
  const unwrapLinks = (html: string) => html.replace(ANCHOR_LINK, '').replace(/<\/?a\b[^>]*>/g, '');

  const seen = new Map<string, number>();
  const headings: { level: number; id: string; inner: string }[] = [];
  const markdown: string[] = [];
  const localLinks: string[] = [];
  const localImages: string[] = [];
  const linked = fragment.replace(ATTRIBUTE, (whole, attr: string, url: string) => {
    if (!LOCAL.test(url)) return whole;
    const lesson = /^(?:\.\/)?([^/?#]+)\.ipynb(#.*)?$/.exec(url);
    const target = lesson && lessons.includes(lesson[1]) ? `${lesson[1]}.html${lesson[2] ?? ''}` : url;
    (attr === 'src' ? localImages : localLinks).push(target);
    return `${attr}="${target}"`;
  });
  const body = linked.replace(MARKDOWN_REGION, (_, region: string) => {
    // Two headings with the same text get the same id from nbconvert; number the repeats.
    const unique = region.replace(HEADING, (_h, level: string, id: string, inner: string) => {
      const n = (seen.get(id) ?? 0) + 1;
      seen.set(id, n);
      const uid = n === 1 ? id : `${id}-${n}`;
      headings.push({ level: Number(level), id: uid, inner: inner.replace(ANCHOR_LINK, '') });
      return `<h${level} id="${uid}">${inner.replace(`href="#${id}"`, `href="#${uid}"`)}</h${level}>`;
    });
    markdown.push(unique);
    return typeset(unique);
  });

  const h1 = headings.find((h) => h.level === 1);
  const title = h1 ? plainText(h1.inner) : fallbackTitle;
  const titleHtml = h1 ? retypeset(unwrapLinks(h1.inner)) : escapeHtml(fallbackTitle);
  const toc = headings
    .filter((h) => h.level === 2 || h.level === 3)
    .map((h) => ({ level: h.level, id: h.id, html: retypeset(unwrapLinks(h.inner)) }));

  return {
    title,
    titleHtml,
    summaryHtml: retypeset(unwrapLinks(summary(markdown.join('\n')))),
    toc,
    bodyHtml: body,
    figures: (body.match(/<script type="application\/vnd\.plotly\.v1\+json">/g) ?? []).length,
    formulas: (body.match(/class="katex"/g) ?? []).length,
    mathErrors,
    localLinks,
    localImages,
  };
}

/** The first paragraph between the title and the next heading, and the list after a "What you will learn" line. */
function summary(markdown: string): string {
  const parts: string[] = [];
  const afterTitle = markdown.search(/<\/h1>/);
  if (afterTitle >= 0) {
    const rest = markdown.slice(afterTitle);
    const nextHeading = rest.slice(5).search(/<h[1-6][ >]/);
    const intro = nextHeading >= 0 ? rest.slice(0, nextHeading + 5) : rest;
    const paragraph = intro.match(/<p>[\s\S]*?<\/p>/);
    if (paragraph) parts.push(paragraph[0]);
  }
  const lead = /<(h[1-6])[^>]*>([\s\S]*?)<\/\1>|<p>([\s\S]*?)<\/p>/g;
  for (let m = lead.exec(markdown); m; m = lead.exec(markdown)) {
    const label = plainText((m[2] ?? m[3] ?? '').replace(ANCHOR_LINK, ''));
    if (!LEARN.test(label)) continue;
    const list = /^\s*<(ul|ol)>/.exec(markdown.slice(m.index + m[0].length));
    if (list) {
      const start = m.index + m[0].length + list[0].indexOf('<');
      if (parts[0] !== m[0]) parts.push(`<p class="learn-label">${escapeHtml(label)}</p>`);
      parts.push(balancedElement(markdown, start, list[1]));
    }
    break;
  }
  return parts.join('\n');
}
