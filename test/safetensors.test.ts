// A checkpoint written by `npm start -- --save` is a safetensors file: PyTorch opens it with nothing
// but json and struct (test/safetensors_logits.py), rebuilds the model from its tensors and gives the
// TypeScript model's logits on one minibatch to 1e-5.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import { loadCheckpoint, modelFromCheckpoint } from '../src/checkpoint';
import { PARAM_NAMES } from '../src/params';
import { run, TINY } from './spawn-cli';
import { PYTHON, requireTorch } from './torch';

const SCRIPT = path.join(__dirname, 'safetensors_logits.py');
const TOL = 1e-5;

let dir: string;
let file: string;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-safetensors-'));
  file = path.join(dir, 'tiny.safetensors');
  const made = await run('src/apps/start.ts', [...TINY, '--epochs', '2', '--save', file]);
  assert.equal(made.code, 0, made.stderr);
  await initBackend({ log: () => {} });
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('a checkpoint opened in PyTorch as safetensors', () => {
  it('gives the TypeScript model’s logits on one minibatch to 1e-5, from tensors read with json and struct', () => {
    requireTorch();
    const ckpt = loadCheckpoint(file);
    const { vocab } = ckpt;
    // Two made-up lines (no corpus text), B = 2 sequences of T = 12 characters.
    const lines = ['a warm cup of', 'seven quiet f'].map((s) => vocab.toIndices(Array.from(s.padEnd(12).slice(0, 12))));
    const [B, T] = [lines.length, 12];
    const batchFile = path.join(dir, 'batch.json');
    fs.writeFileSync(batchFile, JSON.stringify({ X: lines }));

    const model = modelFromCheckpoint(ckpt);
    const ours = tf.tidy(() => {
      const X = tf.tensor2d(lines.flat(), [B, T], 'int32');
      const state = model.beginState(B);
      const { logits } = model.forward(X, state); // [T*B, V], time-major
      return Array.from(logits.dataSync());
    });
    model.dispose();

    const r = spawnSync(PYTHON, [SCRIPT, file, batchFile], { encoding: 'utf8' });
    assert.equal(r.status, 0, `test/safetensors_logits.py failed: ${r.stderr}`);
    const torch = JSON.parse(r.stdout) as { names: string[]; shapes: Record<string, number[]>; vocab: string[]; config: { numHiddens: number }; epoch: number; logits: number[] };

    const [V, H] = [vocab.size, ckpt.config.numHiddens];
    assert.deepEqual(torch.names, [...PARAM_NAMES], 'the tensors, in PARAM_NAMES order');
    assert.deepEqual(torch.shapes, { W_xh: [V, H], W_hh: [H, H], b_h: [H], W_hq: [H, V], b_q: [V] });
    assert.deepEqual(torch.vocab, vocab.idxToToken, 'the vocabulary, from __metadata__');
    assert.equal(torch.config.numHiddens, 16);
    assert.equal(torch.epoch, 2);
    assert.equal(torch.logits.length, T * B * V);
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - torch.logits[i]) / (1 + Math.abs(torch.logits[i])));
    assert.ok(worst < TOL, `logits differ by up to ${worst} (relative to 1 + |logit|)`);
    assert.ok(Math.max(...torch.logits.map(Math.abs)) > 0.1, 'a trained model, not all-zero logits');
  });
});
