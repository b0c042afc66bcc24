// d2l's table, row 2: random partitioning (fresh state per minibatch), 500 epochs → perplexity ≤ 1.7.
// d2l printed 1.5 for a run that reset the state on the sequential loader; this is true random sampling.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bookWords, completeWords, runRecipe } from './d2l';

test('npm start -- --json --partition random ends at perplexity ≤ 1.7 with mostly words from the book', async () => {
  const out = runRecipe(['--partition', 'random']);
  assert.equal(out.epochs, 500);
  assert.ok(out.perplexity <= 1.7, `perplexity ${out.perplexity} > 1.7`);
  const words = await bookWords();
  const sample = out.samples['time traveller'];
  const generated = completeWords(sample);
  const known = generated.filter((w) => words.has(w));
  assert.ok(known.length >= 0.8 * generated.length, `only ${known.length}/${generated.length} book words in '${sample}'`);
  console.log(`random: perplexity ${out.perplexity.toFixed(3)}, ${Math.round(out.tokensPerSec)} tokens/s on ${out.backend}; ${sample}`);
});
