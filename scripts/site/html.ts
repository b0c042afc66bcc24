// String-level HTML helpers for scripts/build-site.ts. The HTML they read is nbconvert's output for
// our own template (scripts/site/nbconvert/lesson), so a tokenizer is enough; no DOM is needed.
import katex from 'katex';

/** Escape text for an element's content or a double-quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Undo the escaping nbconvert applies (named and numeric entities). */
export function decodeEntities(html: string): string {
  return html.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/** Visible text of an HTML fragment, whitespace collapsed. */
export function plainText(html: string): string {
  return decodeEntities(html.replace(/<[^>]*>/g, '')).replace(/\s+/g, ' ').trim();
}

/** Comments, tags (quoted attributes may hold '>') and text runs. */
const TOKEN = /<!--[\s\S]*?-->|<(\/?)([a-zA-Z][\w-]*)(?:[^>"']|"[^"]*"|'[^']*')*>|[^<]+|</g;

/** Elements whose text is never maths: a `$` in code is a dollar sign. */
const NO_MATH = new Set(['code', 'pre', 'script', 'style', 'textarea', 'kbd', 'samp']);

/**
 * Delimiters as nbconvert's markdown renderer leaves them: `\\[…\\]` and `\\(…\\)` have already
 * become `$$…$$` and `$…$`, environments stay as `\begin{name}…\end{name}`. Within one text run
 * the pairing matches mistune's, which decided what is maths in the first place.
 */
const MATH = /\$\$([\s\S]+?)\$\$|\$([\s\S]+?)\$|\\begin\{([a-z]*\*?)\}[\s\S]*?\\end\{\3\}/g;

export interface MathError {
  tex: string;
  message: string;
}

/** Typesets every formula in `html` with KaTeX at build time; `macros` persists `\gdef` across calls. */
export function typesetMath(html: string, macros: Record<string, string>, errors: MathError[]): string {
  let skipDepth = 0;
  return html.replace(TOKEN, (token, closing: string | undefined, tag: string | undefined) => {
    if (tag !== undefined) {
      const name = tag.toLowerCase();
      if (NO_MATH.has(name) && !token.endsWith('/>')) skipDepth = Math.max(0, skipDepth + (closing ? -1 : 1));
      return token;
    }
    if (skipDepth > 0 || token.startsWith('<')) return token;
    return token.replace(MATH, (source, display: string | undefined, inline: string | undefined) => {
      const tex = decodeEntities(display ?? inline ?? source);
      const displayMode = inline === undefined;
      const options = { displayMode, macros, globalGroup: true, strict: 'ignore' as const, output: 'htmlAndMathml' as const };
      try {
        return katex.renderToString(tex, { ...options, throwOnError: true });
      } catch (err) {
        errors.push({ tex, message: (err as Error).message });
        return katex.renderToString(tex, { ...options, throwOnError: false });
      }
    });
  });
}

/** The element that starts at `start` (an opening `<tag`), up to its matching close tag. */
export function balancedElement(html: string, start: number, tag: string): string {
  const re = new RegExp(`<(/?)${tag}\\b[^>]*>`, 'gi');
  re.lastIndex = start;
  let depth = 0;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    depth += m[1] ? -1 : 1;
    if (depth === 0) return html.slice(start, m.index + m[0].length);
  }
  return html.slice(start);
}
