// The one definition of the parameters: names, shapes and order, and the flat layout that
// checkpoints and the data-parallel helper share.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RNNModelScratch } from '../src/model';
import { mapParams, numParams, packParams, PARAM_NAMES, paramShapes, paramSizes, unpackParams } from '../src/params';

describe('the parameters', () => {
  it("are d2l's five, in d2l's order, with the shapes getParams draws", () => {
    assert.deepEqual([...PARAM_NAMES], ['W_xh', 'W_hh', 'b_h', 'W_hq', 'b_q']);
    const model = new RNNModelScratch(7, 5);
    const shapes = paramShapes(7, 5);
    assert.deepEqual(Object.keys(shapes), [...PARAM_NAMES]);
    for (const name of PARAM_NAMES) assert.deepEqual(model.params[name].shape, shapes[name], name);
    assert.deepEqual(paramSizes(7, 5), { W_xh: 35, W_hh: 25, b_h: 5, W_hq: 35, b_q: 7 });
    assert.equal(numParams(7, 5), model.numParams);
    assert.equal(numParams(28, 512), 291_356);
    model.dispose();
  });

  it('pack end to end in PARAM_NAMES order, and unpack to views of the same numbers', () => {
    const [V, H] = [3, 2];
    const sizes = paramSizes(V, H);
    let next = 0;
    const values = mapParams(sizes, (n) => Float32Array.from({ length: n }, () => next++)); // 0, 1, 2, … across all five
    const flat = packParams(values);
    assert.deepEqual(Array.from(flat), Array.from({ length: numParams(V, H) }, (_, i) => i));
    const back = unpackParams(flat, V, H);
    for (const name of PARAM_NAMES) assert.deepEqual(back[name], values[name], name);
    back.W_hh[0] = -1;
    assert.equal(flat[sizes.W_xh], -1, 'unpacked arrays are views into the flat one');
    const into = new Float32Array(flat.length);
    assert.equal(packParams(values, into), into, 'packs into the array given');
    assert.throws(() => packParams(values, new Float32Array(flat.length + 1)), /do not fit/);
    assert.throws(() => unpackParams(flat, V + 1, H), /expected 26 for V = 4, H = 2/);
  });

  it('map by name, in PARAM_NAMES order', () => {
    const seen: string[] = [];
    const out = mapParams(paramShapes(4, 3), (shape, name) => {
      seen.push(name);
      return shape.length;
    });
    assert.deepEqual(seen, [...PARAM_NAMES]);
    assert.deepEqual(out, { W_xh: 2, W_hh: 2, b_h: 1, W_hq: 2, b_q: 1 });
  });
});
