// The seeded generator behind offsets, shuffles, initialisation and sampling.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/random';

const draws = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.next());

describe('Rng', () => {
  it('draws the same numbers from the same seed and different ones from another', () => {
    assert.deepEqual(draws(new Rng(42), 100), draws(new Rng(42), 100));
    assert.notDeepEqual(draws(new Rng(42), 100), draws(new Rng(43), 100));
  });

  it('draws uniformly in [0, 1)', () => {
    const xs = draws(new Rng(7), 20000);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
  });

  it('replays the same draws after setState(getState()), including a pending normal', () => {
    const rng = new Rng(9);
    rng.normal(); // leaves the second Box–Muller value pending
    const saved = rng.getState();
    const first = [rng.normal(), rng.next(), rng.int(0, 100), rng.normal(), rng.normal()];
    rng.setState(saved);
    const again = [rng.normal(), rng.next(), rng.int(0, 100), rng.normal(), rng.normal()];
    assert.deepEqual(again, first);
    const fresh = new Rng(123);
    fresh.setState(JSON.parse(JSON.stringify(saved))); // a checkpoint stores it as JSON
    assert.deepEqual([fresh.normal(), fresh.next(), fresh.int(0, 100), fresh.normal(), fresh.normal()], first);
  });

  it('draws integers from both ends of [lo, hi] and nothing outside', () => {
    const rng = new Rng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(rng.int(3, 7));
    assert.deepEqual([...seen].sort(), [3, 4, 5, 6, 7]);
    assert.equal(new Rng(5).int(4, 4), 4);
  });

  it('draws standard normals (mean 0, variance 1)', () => {
    const rng = new Rng(2);
    const zs = Array.from({ length: 20000 }, () => rng.normal());
    const mean = zs.reduce((a, b) => a + b, 0) / zs.length;
    const variance = zs.reduce((a, z) => a + (z - mean) ** 2, 0) / zs.length;
    assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
  });

  it('shuffles into a permutation of the same elements, in place, reproducibly', () => {
    const xs = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = new Rng(4).shuffle([...xs]);
    assert.deepEqual([...shuffled].sort((a, b) => a - b), xs);
    assert.notDeepEqual(shuffled, xs);
    assert.deepEqual(new Rng(4).shuffle([...xs]), shuffled);
    const inPlace = [...xs];
    assert.equal(new Rng(4).shuffle(inPlace), inPlace);
  });

  it('never picks a category of weight zero and follows the weights', () => {
    const rng = new Rng(8);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 10000; i++) counts[rng.categorical([0, 1, 0, 3])]++;
    assert.equal(counts[0] + counts[2], 0);
    assert.ok(Math.abs(counts[3] / 10000 - 0.75) < 0.03, `share of index 3: ${counts[3] / 10000}`);
  });
});
