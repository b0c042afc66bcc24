// Tokens and the vocabulary, with d2l's numbering: <unk> first, then by frequency, ties first-seen.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize, Vocab } from '../src/vocab';

describe('tokenize', () => {
  it('splits lines into characters, keeping spaces, and an empty line into nothing', () => {
    assert.deepEqual(tokenize(['ab c', '']), [['a', 'b', ' ', 'c'], []]);
  });

  it('splits lines into words on spaces when asked', () => {
    assert.deepEqual(tokenize(['the time  machine', ''], 'word'), [['the', 'time', 'machine'], []]);
  });

  it('refuses an unknown token kind, naming the ones it knows', () => {
    assert.throws(() => tokenize(['a'], 'byte' as never), /'char' or 'word'/);
  });
});

describe('Vocab', () => {
  it('numbers <unk> 0, then tokens from most to least frequent, ties in first-seen order', () => {
    // counts: b 3, c 2, a 2, d 1, e 1 — c is seen before a, d before e
    const v = new Vocab(['b', 'c', 'd', 'b', 'a', 'c', 'e', 'a', 'b']);
    assert.deepEqual(v.idxToToken, ['<unk>', 'b', 'c', 'a', 'd', 'e']);
    assert.equal(Vocab.UNK, 0);
    assert.equal(v.indexOf('<unk>'), 0);
    assert.deepEqual(v.tokenFreqs, [['b', 3], ['c', 2], ['a', 2], ['d', 1], ['e', 1]]);
  });

  it('accepts lines of tokens as well as a flat list', () => {
    const flat = new Vocab(['x', 'y', 'y']);
    const nested = new Vocab([['x'], ['y', 'y']]);
    assert.deepEqual(nested.idxToToken, flat.idxToToken);
  });

  it('round-trips tokens through indices, and maps unknown tokens to <unk>', () => {
    const v = new Vocab(tokenize(['hello world']));
    const tokens = Array.from('world hello');
    assert.deepEqual(v.toTokens(v.toIndices(tokens)), tokens);
    assert.deepEqual(v.toIndices(['h', 'z', '!']), [v.indexOf('h'), 0, 0]);
    assert.equal(v.has('z'), false);
    assert.equal(v.has('h'), true);
    for (let i = 0; i < v.size; i++) assert.equal(v.indexOf(v.idxToToken[i]), i);
  });

  it('leaves out tokens rarer than minFreq', () => {
    const v = new Vocab(['a', 'a', 'a', 'b', 'b', 'c'], { minFreq: 2 });
    assert.deepEqual(v.idxToToken, ['<unk>', 'a', 'b']);
    assert.equal(v.indexOf('c'), Vocab.UNK);
  });

  it('places reserved tokens right after <unk>, and does not number them twice', () => {
    const v = new Vocab(['a', '<pad>', 'a', 'b'], { reservedTokens: ['<pad>', '<bos>'] });
    assert.deepEqual(v.idxToToken, ['<unk>', '<pad>', '<bos>', 'a', 'b']);
    assert.equal(v.size, 5);
    assert.equal(v.indexOf('<bos>'), 2);
  });

  it('rebuilds the same numbering from its token list with fromTokens', () => {
    const original = new Vocab(tokenize(['the time traveller', 'for so it will be convenient']));
    const copy = Vocab.fromTokens([...original.idxToToken]);
    assert.deepEqual(copy.idxToToken, original.idxToToken);
    assert.equal(copy.size, original.size);
    const text = Array.from('it will be the time');
    assert.deepEqual(copy.toIndices(text), original.toIndices(text));
    assert.equal(copy.indexOf('q'), Vocab.UNK);
  });

  it('is just <unk> when built from nothing', () => {
    const v = new Vocab();
    assert.deepEqual(v.idxToToken, ['<unk>']);
    assert.equal(v.size, 1);
  });
});
