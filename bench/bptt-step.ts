// Micro-bench of one bpttStep (forward, BPTT, gradients; no clipping or SGD) at d2l's shape (V 28,
// H 512, T 35) on wasm, one thread, for B 32 and B 16 (the half a data-parallel thread gets).
// With --against, a second implementation (a module exporting bpttStep, e.g. an older src/bptt.ts
// copied into .scratch/ with its imports pointed at ../src/) runs in the same process, one step
// of each in turn (order alternating), so both see the same load; its outputs are first compared
// bit for bit with ours. Prints median and first quartile of wall and CPU time per step, and the
// load average, since the machine this was written on runs several jobs on two cores.
//
//   node --import tsx bench/bptt-step.ts [--against .scratch/bptt-main.ts] [--batch 32,16] [--reps 40]
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import type { StepResult } from '../src/autograd';
import { initBackend } from '../src/backend';
import type { Batch } from '../src/batches';
import { bpttStep } from '../src/bptt';
import { getParams } from '../src/model';
import { PARAM_NAMES, type ParamTensors } from '../src/params';
import { Rng } from '../src/random';

type Step = (params: ParamTensors, batch: Batch, state: tf.Tensor2D) => StepResult;

const V = 28;
const H = 512;
const T = 35;

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * q)];

/** 'same' when loss, every gradient and the final state are equal bit for bit, else what differs. */
function compare(a: Step, b: Step, params: ParamTensors, batch: Batch, state: tf.Tensor2D): string {
  const x = a(params, batch, state);
  const y = b(params, batch, state);
  const differ: string[] = PARAM_NAMES.filter((n) => {
    const p = x.grads[n].dataSync();
    const q = y.grads[n].dataSync();
    return p.length !== q.length || p.some((v, i) => !Object.is(v, q[i]));
  });
  const xs = x.state.dataSync();
  const ys = y.state.dataSync();
  if (xs.some((v, i) => !Object.is(v, ys[i]))) differ.push('state');
  if (!Object.is(x.loss, y.loss)) differ.push('loss');
  tf.dispose([x.grads, x.state, y.grads, y.state]);
  return differ.length === 0 ? 'same bit for bit' : `differs in ${differ.join(', ')}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { against: { type: 'string' }, batch: { type: 'string', default: '32,16' }, reps: { type: 'string', default: '40' } } });
  await initBackend({ wanted: 'wasm', parallel: false, log: () => {} });
  const steps: [string, Step][] = [['bpttStep', bpttStep]];
  if (values.against) {
    const mod = (await import(path.resolve(values.against))) as { bpttStep?: Step };
    if (typeof mod.bpttStep !== 'function') throw new Error(`${values.against} exports no bpttStep`);
    steps.push([path.basename(values.against), mod.bpttStep]);
  }
  const reps = Number(values.reps);
  for (const B of values.batch.split(',').map(Number)) {
    const rng = new Rng(0);
    const params = getParams(V, H, rng);
    const tokens = () => Int32Array.from({ length: B * T }, () => rng.int(0, V - 1));
    const batch: Batch = { X: tokens(), Y: tokens(), batchSize: B, numSteps: T };
    const state = tf.zeros([B, H]) as tf.Tensor2D;
    if (steps.length > 1) console.log(`B ${B}: ${steps[1][0]} vs bpttStep: ${compare(steps[0][1], steps[1][1], params, batch, state)}`);
    for (const [, step] of steps) {
      for (let i = 0; i < 2; i++) {
        const out = step(params, batch, state); // warm-up: kernels compiled, memory grown
        tf.dispose([out.grads, out.state]);
      }
    }
    const wall = steps.map(() => [] as number[]);
    const cpu = steps.map(() => [] as number[]);
    const load0 = os.loadavg()[0];
    for (let r = 0; r < reps; r++) {
      const order = r % 2 === 0 ? steps.map((_, i) => i) : steps.map((_, i) => steps.length - 1 - i);
      for (const i of order) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const out = steps[i][1](params, batch, state);
        wall[i].push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu[i].push((c.user + c.system) / 1000);
        tf.dispose([out.grads, out.state]);
      }
    }
    console.log(`B ${B}, ${reps} steps each, load average ${load0.toFixed(2)} → ${os.loadavg()[0].toFixed(2)}, tensors left ${tf.memory().numTensors - Object.keys(params).length - 1}`);
    steps.forEach(([name], i) => {
      const ratio = (xs: number[][], q: number) => (i === 0 ? '' : ` (${(quantile(xs[i], q) / quantile(xs[0], q)).toFixed(3)}×)`);
      console.log(`  ${name.padEnd(16)} wall median ${quantile(wall[i], 0.5).toFixed(1)} ms${ratio(wall, 0.5)}, p25 ${quantile(wall[i], 0.25).toFixed(1)}${ratio(wall, 0.25)} | cpu median ${quantile(cpu[i], 0.5).toFixed(1)} ms${ratio(cpu, 0.5)}, p25 ${quantile(cpu[i], 0.25).toFixed(1)}${ratio(cpu, 0.25)}`);
    });
    tf.dispose([state, ...Object.values(params)]);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
