// Tokens and the vocabulary that numbers them, as d2l's `tokenize` and `Vocab`.
// Taught in 01-rnn-overview (one-hot inputs need token indices).

export type TokenKind = 'char' | 'word';

/** Splits each line into characters or words (d2l's `tokenize`). */
export function tokenize(lines: string[], kind: TokenKind = 'char'): string[][] {
  if (kind === 'char') return lines.map((line) => Array.from(line));
  if (kind === 'word') return lines.map((line) => line.split(' ').filter((w) => w.length > 0));
  throw new Error(`unknown token kind '${kind as string}'; use 'char' or 'word'`);
}

export interface VocabOptions {
  minFreq?: number; // tokens rarer than this map to <unk>
  reservedTokens?: string[]; // placed right after <unk>, e.g. ['<pad>', '<bos>']
}

/**
 * Token ↔ index table, most frequent first, `<unk>` = 0. Ties keep first-seen order, as
 * Python's stable sort over a Counter does, so indices match d2l's exactly.
 */
export class Vocab {
  static readonly UNK = 0;
  readonly idxToToken: string[];
  readonly tokenFreqs: [string, number][];
  private readonly tokenToIdx = new Map<string, number>();

  constructor(tokens: string[] | string[][] = [], opts: VocabOptions = {}) {
    const counts = new Map<string, number>();
    for (const t of tokens.flat()) counts.set(t, (counts.get(t) ?? 0) + 1);
    this.tokenFreqs = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    this.idxToToken = ['<unk>', ...(opts.reservedTokens ?? [])];
    this.idxToToken.forEach((t, i) => this.tokenToIdx.set(t, i));
    for (const [token, freq] of this.tokenFreqs) {
      if (freq < (opts.minFreq ?? 0)) break;
      if (!this.tokenToIdx.has(token)) {
        this.tokenToIdx.set(token, this.idxToToken.length);
        this.idxToToken.push(token);
      }
    }
  }

  /** Rebuilds a vocab from its token list (checkpoints store only that). */
  static fromTokens(idxToToken: string[]): Vocab {
    const v = new Vocab();
    v.idxToToken.length = 0;
    v.tokenToIdx.clear();
    idxToToken.forEach((t, i) => {
      v.idxToToken.push(t);
      v.tokenToIdx.set(t, i);
    });
    return v;
  }

  get size(): number {
    return this.idxToToken.length;
  }

  has(token: string): boolean {
    return this.tokenToIdx.has(token);
  }

  /** Index of a token; unknown tokens map to <unk> (0). */
  indexOf(token: string): number {
    return this.tokenToIdx.get(token) ?? Vocab.UNK;
  }

  toIndices(tokens: string[]): number[] {
    return tokens.map((t) => this.indexOf(t));
  }

  toTokens(indices: ArrayLike<number>): string[] {
    return Array.from(indices, (i) => this.idxToToken[i]);
  }
}
