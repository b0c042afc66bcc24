// Figure text in another language (the Chinese edition, notebooks/zh/). A dictionary maps the
// English strings a chart shows (title, axis titles, trace names) to their translation; it lives
// beside the notebook as NN-name.figures.json. Two consumers use the same function:
// src/plot.ts, when a notebook runs with such files in its folder (cwd), and scripts/build-site.ts,
// which builds the Chinese pages from the English executions.
import { existsSync, readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import type { Figure } from './plot';

/** English string → translation. */
export type FigureDictionary = Record<string, string>;

export const FIGURES_SUFFIX = '.figures.json';

/**
 * One string: the whole string when the dictionary has it; otherwise every key found inside it,
 * longest first, so strings built from templates (`r = ${r}`, "Training perplexity (θ = 1)")
 * keep their numbers and lose their English. Unknown text is returned unchanged.
 */
export function translateText(text: string, dict: FigureDictionary): string {
  const whole = dict[text];
  if (whole !== undefined) return whole;
  const keys = Object.keys(dict)
    .filter((k) => k.length > 0 && text.includes(k))
    .sort((a, b) => b.length - a.length);
  if (!keys.length) return text;
  // One pass over the original text, so a translation is never translated again.
  const pattern = new RegExp(keys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return text.replace(pattern, (k) => dict[k] ?? k);
}

/** A copy of `fig` with its title, axis titles and trace names translated (data untouched). */
export function translateFigure(fig: Figure, dict: FigureDictionary): Figure {
  if (Object.keys(dict).length === 0) return fig;
  const title = (t: { text: string } | undefined) => (t && typeof t.text === 'string' ? { ...t, text: translateText(t.text, dict) } : t);
  const layout = { ...fig.layout };
  if (layout.title) layout.title = title(layout.title);
  for (const axis of ['xaxis', 'yaxis'] as const) {
    const a = layout[axis];
    if (a?.title) layout[axis] = { ...a, title: title(a.title) };
  }
  const data = fig.data.map((t) => (typeof t.name === 'string' ? { ...t, name: translateText(t.name, dict) } : t));
  return { ...fig, data, layout };
}

/** Parses one figures.json file; throws with the file name when it is not an object of strings. */
export function readFigureDictionary(file: string): FigureDictionary {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${file}: expected a JSON object {"English": "translation"}`);
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'string') throw new Error(`${file}: the value of ${JSON.stringify(k)} is not a string`);
  }
  return parsed as FigureDictionary;
}

/**
 * Every *.figures.json in `dir`, merged in file-name order (a running kernel does not know which
 * notebook it runs, so all the lessons' dictionaries of the folder apply). Empty when there are
 * none or one cannot be read: the figures then stay in English.
 */
export function folderDictionary(dir: string): FigureDictionary {
  try {
    if (!existsSync(dir)) return {};
    const files = readdirSync(dir).filter((f) => f.endsWith(FIGURES_SUFFIX)).sort();
    return Object.assign({}, ...files.map((f) => readFigureDictionary(join(dir, f)))) as FigureDictionary;
  } catch {
    return {};
  }
}
