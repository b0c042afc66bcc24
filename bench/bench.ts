// Training speed: tokens per second of full training steps (loss and gradients, clipping, SGD) for
// every backend × path × GEMM (on wasm: each native GEMM built, src/native-gemm.ts, and XNNPACK), with the PyTorch peer (../shared/bench/torch_rnn_scratch.py) run alongside
// when /usr/bin/python3 can import torch. Same work as the peer: d2l's recipe (vocab 28, 512 hidden
// units, batch 32, 35 steps, lr 1, clipping at 1) on a fixed random minibatch, state reset to zero.
// Each configuration runs in its own process, so peak RSS and tensor counts are its own.
//
//   npm run bench [-- --json] [--backends wasm,cpu] [--paths fast,autograd] [--gemms onednn,xnnpack]
//                 [--rounds 5] [--round-seconds 1] [--no-readme]
//
// The table says how fast; the last line with --json says it for machines. The table also replaces
// the one between the bench markers in README.md (--no-readme leaves README alone).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { BACKENDS, initBackend, isDataParallel, type BackendName } from '../src/backend';
import { builtGemmLibraries, GEMM_LIBRARIES, nativeGemmStatus, type GemmLibrary } from '../src/native-gemm';
import type { TrainPath } from '../src/config';
import { gradClipping } from '../src/clipping';
import { getParams } from '../src/model';
import { Rng } from '../src/random';
import { initRNNState } from '../src/state';
import { sgd, STEP_FNS } from '../src/train';

const ROOT = path.resolve(__dirname, '..');
const PYTHON = '/usr/bin/python3';
const PEER_SCRIPT = process.env.RNN_PEER_SCRIPT ?? path.resolve(ROOT, '../shared/bench/torch_rnn_scratch.py');

interface Work {
  vocabSize: number; // V
  numHiddens: number; // H
  batchSize: number; // B
  numSteps: number; // T
  lr: number;
  theta: number;
}
const D2L: Work = { vocabSize: 28, numHiddens: 512, batchSize: 32, numSteps: 35, lr: 1, theta: 1 };

/** Who multiplies the matrices on wasm: a native GEMM library, or tfjs-wasm's own XNNPACK. */
type Gemm = GemmLibrary | 'xnnpack';
const GEMM_LABELS: Record<Gemm, string> = { onednn: 'oneDNN', openblas: 'OpenBLAS', xnnpack: 'XNNPACK' };

interface Run {
  backend: BackendName;
  path: TrainPath;
  threads: number; // 2 = fast path split across the helper thread (data-parallel.ts)
  gemm: Gemm | null; // null off wasm (the backend's own kernels)
}

interface Row extends Run {
  tokensPerSec: number; // median over rounds
  rounds: number[]; // tokens/s of each round
  msPerStep: number; // at the median
  peakRssMB: number; // of the whole process, helper thread included
  numTensorsBefore: number; // after warm-up, before the timed rounds
  numTensorsAfter: number;
  loss: number; // of the last step, to show the numbers stayed finite
}

interface Peer {
  peer: string;
  tokens_per_s: number; // median of the peer's rounds
  min: number;
  max: number;
  runs?: number[]; // medians of its runs before and after ours
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** In a child process: trains on one backend, one path, and prints one JSON line. */
async function measure(run: Run, work: Work, rounds: number, roundSeconds: number): Promise<Row> {
  await initBackend({ wanted: run.backend, parallel: run.threads > 1, log: () => {} }); // RNN_NATIVE from measureInChild
  const gemm = nativeGemmStatus();
  if (run.gemm !== null && (run.gemm === 'xnnpack' ? gemm.on : !gemm.on || gemm.library !== run.gemm)) {
    throw new Error(`asked for ${run.gemm} GEMM, got ${JSON.stringify(gemm)}`);
  }
  const { vocabSize: V, numHiddens: H, batchSize: B, numSteps: T } = work;
  const rng = new Rng(0);
  const params = getParams(V, H, rng);
  const tokens = () => Int32Array.from({ length: B * T }, () => rng.int(0, V - 1));
  const batch = { X: tokens(), Y: tokens(), batchSize: B, numSteps: T };
  const stepFn = STEP_FNS[run.path];
  let loss = NaN;
  const step = () => {
    const state = initRNNState(B, H);
    const out = stepFn(params, batch, state);
    const clip = gradClipping(out.grads, work.theta);
    sgd(params, clip.grads, work.lr);
    tf.dispose([state, out.state, out.grads, clip.grads]);
    loss = out.loss;
  };
  for (let i = 0; i < 2; i++) step(); // warm-up: kernels compiled, memory grown
  const numTensorsBefore = tf.memory().numTensors;
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    let steps = 0;
    let seconds = 0;
    do {
      step();
      steps++;
      seconds = (performance.now() - start) / 1000;
    } while (seconds < roundSeconds);
    rates.push((steps * B * T) / seconds);
  }
  const tokensPerSec = median(rates);
  return {
    ...run,
    threads: isDataParallel() && run.path === 'fast' ? 2 : 1,
    tokensPerSec,
    rounds: rates.map(Math.round),
    msPerStep: ((B * T) / tokensPerSec) * 1000,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    numTensorsBefore,
    numTensorsAfter: tf.memory().numTensors,
    loss,
  };
}

/** Runs one configuration in a fresh process; null with a reason when it cannot run here. */
function measureInChild(run: Run, argv: string[]): Row | string {
  const r = spawnSync(process.execPath, [...process.execArgv, __filename, ...argv, '--child', JSON.stringify(run)], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, RNN_BACKEND: undefined, RNN_PARALLEL: undefined, RNN_NATIVE: run.gemm === null || run.gemm === 'xnnpack' ? '0' : run.gemm },
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0) return r.stderr.split('\n').find((l) => l.startsWith('bench: '))?.slice('bench: '.length) ?? `exit code ${r.status}: ${r.stderr.trim()}`;
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Row;
}

/** The PyTorch peer, or why it did not run. */
function runPeer(): Peer | string {
  if (!fs.existsSync(PEER_SCRIPT)) return `no peer script at ${PEER_SCRIPT}`;
  const check = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (check.error) return `${PYTHON} cannot run (${check.error.message})`;
  if (check.status !== 0) return `${PYTHON} cannot import torch`;
  const r = spawnSync(PYTHON, [PEER_SCRIPT], { encoding: 'utf8' });
  if (r.status !== 0) return `the peer script failed: ${r.stderr.trim().split('\n').pop()}`;
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Peer;
}

function fasterPeer(a: Peer | string, b: Peer | string): Peer | string {
  if (typeof a === 'string') return b;
  if (typeof b === 'string') return a;
  const [fast, slow] = a.tokens_per_s >= b.tokens_per_s ? [a, b] : [b, a];
  return { ...fast, min: Math.min(a.min, b.min), max: Math.max(a.max, b.max), runs: [slow.tokens_per_s, fast.tokens_per_s] };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const threadWord = (n: number) => `${n} thread${n > 1 ? 's' : ''}`;
const gemmLabel = (r: Run) => (r.gemm ? GEMM_LABELS[r.gemm] : '(its own)');

/** The table's cells: one row per run, ratios to the same backend and GEMM's autograd run and to the peer. */
function tableRows(rows: Row[], peer: Peer | string): string[][] {
  const autograd = (r: Row) => rows.find((q) => q.backend === r.backend && q.gemm === r.gemm && q.path === 'autograd');
  const peerRate = typeof peer === 'string' ? null : peer.tokens_per_s;
  return rows.map((r) => {
    const ref = autograd(r);
    return [
      r.backend,
      gemmLabel(r),
      r.path,
      String(r.threads),
      fmt(r.tokensPerSec),
      `${fmt(Math.min(...r.rounds))}–${fmt(Math.max(...r.rounds))}`,
      r.msPerStep.toFixed(1),
      ref ? `${(r.tokensPerSec / ref.tokensPerSec).toFixed(1)}×` : '–',
      peerRate ? (r.tokensPerSec / peerRate).toFixed(2) : '–',
      `${Math.round(r.peakRssMB)} MB`,
      `${r.numTensorsBefore} → ${r.numTensorsAfter}`,
    ];
  });
}

const HEADER = ['backend', 'GEMM', 'path', 'threads', 'tokens/s', 'rounds min–max', 'ms/step', '× autograd', 'ours/PyTorch', 'peak RSS', 'tensors before → after'];

function peerLine(peer: Peer | string): string {
  if (typeof peer === 'string') return `PyTorch peer: not run (${peer})`;
  const runs = peer.runs ? `; runs before and after ours: ${peer.runs.map(fmt).join(', ')}` : '';
  return `PyTorch peer (CPU, same work): ${fmt(peer.tokens_per_s)} tokens/s (rounds ${fmt(peer.min)}–${fmt(peer.max)}${runs})`;
}

function headlineLine(headline: Row | undefined, peer: Peer | string): string | null {
  if (!headline || typeof peer === 'string') return null;
  return `ours/peer: ${(headline.tokensPerSec / peer.tokens_per_s).toFixed(2)} (${headline.backend} + ${gemmLabel(headline)} GEMM, ${headline.path} path, ${threadWord(headline.threads)})`;
}

function printTable(rows: Row[], skipped: string[], peer: Peer | string, headline: Row | undefined): void {
  const lines = [HEADER, ...tableRows(rows, peer)];
  const widths = lines[0].map((_, c) => Math.max(...lines.map((l) => l[c].length)));
  for (const l of lines) console.log(l.map((cell, c) => (c < 4 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  for (const s of skipped) console.log(`skipped ${s}`);
  console.log(peerLine(peer));
  const h = headlineLine(headline, peer);
  if (h) console.log(h);
}

const README = path.join(ROOT, 'README.md');
const MARK_START = '<!-- bench:start (npm run bench rewrites this part) -->';
const MARK_END = '<!-- bench:end -->';

/** Replaces the table between the bench markers in README.md; false when the markers are missing. */
function writeReadme(rows: Row[], peer: Peer | string, headline: Row | undefined, loadBefore: number): boolean {
  const text = fs.readFileSync(README, 'utf8');
  const [i, j] = [text.indexOf(MARK_START), text.indexOf(MARK_END)];
  if (i < 0 || j < i) return false;
  const md = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const cols = [0, 1, 2, 3, 4, 7, 8]; // backend, GEMM, path, threads, tokens/s, × autograd, ours/PyTorch
  const table = [md(cols.map((c) => HEADER[c])), md(cols.map(() => '---')), ...tableRows(rows, peer).map((r) => md(cols.map((c) => r[c])))];
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const notes = [
    `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} cores (${cpu}), load average ${loadBefore.toFixed(1)} at the start and ${os.loadavg()[0].toFixed(1)} at the end.`,
    peerLine(peer).replace(/^PyTorch peer/, 'PyTorch 1.13 peer') + '.',
    ...(headlineLine(headline, peer) ? [`${headlineLine(headline, peer)}.`] : []),
    ...(loadBefore > os.cpus().length ? ['The machine was busy (load above its core count): read the ratios within this run, not the absolute numbers.'] : []),
  ];
  const block = `${MARK_START}\n${table.join('\n')}\n\n${notes.join('\n')}\n${MARK_END}`;
  fs.writeFileSync(README, text.slice(0, i) + block + text.slice(j + MARK_END.length));
  return true;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      backends: { type: 'string', default: BACKENDS.join(',') },
      paths: { type: 'string', default: 'fast,autograd' },
      rounds: { type: 'string', default: '5' },
      'round-seconds': { type: 'string', default: '1' },
      gemms: { type: 'string', default: [...builtGemmLibraries(), 'xnnpack'].join(',') },
      'no-peer': { type: 'boolean', default: false },
      'no-readme': { type: 'boolean', default: false },
      child: { type: 'string' },
    },
  });
  const rounds = Number(values.rounds);
  const roundSeconds = Number(values['round-seconds']);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer (got ${values.rounds})`);
  if (!(roundSeconds > 0)) throw new Error(`--round-seconds must be > 0 (got ${values['round-seconds']})`);
  if (values.child) {
    console.log(JSON.stringify(await measure(JSON.parse(values.child) as Run, D2L, rounds, roundSeconds)));
    return;
  }
  const backends = values.backends.split(',') as BackendName[];
  const paths = values.paths.split(',') as TrainPath[];
  for (const b of backends) if (!BACKENDS.includes(b)) throw new Error(`--backends takes ${BACKENDS.join(', ')} (got '${b}')`);
  for (const p of paths) if (p !== 'fast' && p !== 'autograd') throw new Error(`--paths takes fast, autograd (got '${p}')`);
  const gemms = values.gemms.split(',') as Gemm[];
  for (const g of gemms) if (g !== 'xnnpack' && !GEMM_LIBRARIES.includes(g)) throw new Error(`--gemms takes ${[...GEMM_LIBRARIES, 'xnnpack'].join(', ')} (got '${g}')`);
  const loadBefore = os.loadavg()[0];
  const childArgs = ['--rounds', String(rounds), '--round-seconds', String(roundSeconds)];
  const log = values.json ? () => {} : (line: string) => console.log(line);
  log(`training speed, d2l's recipe (V ${D2L.vocabSize}, H ${D2L.numHiddens}, B ${D2L.batchSize}, T ${D2L.numSteps}); ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)} at start`);

  // The peer runs before and after ours, and the ratio uses its faster run: a busy machine slows
  // whichever runs at the time, and the comparison should not flatter us.
  const peerBefore = values['no-peer'] ? 'turned off with --no-peer' : runPeer();
  const rows: Row[] = [];
  const skipped: string[] = [];
  for (const backend of backends) {
    // On wasm, each GEMM; the fast path twice: split across the helper thread (the default), and on one thread.
    const gemmsHere: (Gemm | null)[] = backend === 'wasm' ? gemms : [null];
    const runs = gemmsHere.flatMap((gemm) =>
      paths.flatMap((p): Run[] => (p === 'fast' ? [{ backend, gemm, path: p, threads: 2 }, { backend, gemm, path: p, threads: 1 }] : [{ backend, gemm, path: p, threads: 1 }])),
    );
    for (const run of runs) {
      const row = measureInChild(run, childArgs);
      if (typeof row === 'string') {
        skipped.push(`${backend}${run.gemm ? ` + ${GEMM_LABELS[run.gemm]}` : ''}: ${row}`);
        if (run.gemm === null || run.gemm === 'xnnpack') break; // the backend itself cannot start
        continue;
      }
      if (run.threads > 1 && row.threads === 1) continue; // no helper thread here: the 1-thread run covers it
      rows.push(row);
      log(`  ${row.backend} ${gemmLabel(row)} ${row.path} ${threadWord(row.threads)}: ${fmt(row.tokensPerSec)} tokens/s (load ${os.loadavg()[0].toFixed(1)})`);
    }
  }
  const peerAfter = typeof peerBefore === 'string' ? peerBefore : runPeer();
  const peer = fasterPeer(peerBefore, peerAfter);
  // The headline is what training uses by default: the first backend that runs, the fast path.
  const headline = rows.find((r) => r.path === 'fast');
  printTable(rows, skipped, peer, headline);
  if (!values['no-readme'] && !writeReadme(rows, peer, headline, loadBefore)) log(`README.md has no bench markers (${MARK_START}); table not written there`);
  if (values.json) {
    const peerTokensPerSec = typeof peer === 'string' ? null : peer.tokens_per_s;
    console.log(
      JSON.stringify({
        work: D2L,
        cores: os.cpus().length,
        loadAverage: os.loadavg()[0],
        loadAverageAtStart: loadBefore,
        results: rows,
        skipped,
        peer: typeof peer === 'string' ? { tokensPerSec: null, reason: peer } : { tokensPerSec: peer.tokens_per_s, min: peer.min, max: peer.max, runs: peer.runs },
        headline: headline ?? null,
        ratio: headline && peerTokensPerSec ? headline.tokensPerSec / peerTokensPerSec : null,
      }),
    );
  }
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
