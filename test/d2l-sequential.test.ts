// d2l's table, row 1: sequential partitioning, 500 epochs → perplexity 1.0 and the book's words.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bookWords, completeWords, runRecipe } from './d2l';

test('npm start -- --json reproduces d2l: sequential partitioning ends at perplexity ≤ 1.1 with words from the book', async () => {
  const out = runRecipe([]);
  assert.equal(out.epochs, 500);
  assert.ok(out.perplexity <= 1.1, `perplexity ${out.perplexity} > 1.1`);
  const words = await bookWords();
  const sample = out.samples['time traveller'];
  assert.ok(sample.startsWith('time traveller'), sample);
  const generated = completeWords(sample);
  assert.ok(generated.length >= 5, `too few words in '${sample}'`);
  const unknown = generated.filter((w) => !words.has(w));
  assert.deepEqual(unknown, [], `words not in the book in '${sample}'`);
  console.log(`sequential: perplexity ${out.perplexity.toFixed(3)}, ${Math.round(out.tokensPerSec)} tokens/s on ${out.backend}; ${sample}`);
});
