// Builds the optional native GEMM (native/gemm.cc, loaded by src/native-gemm.ts) with node-gyp, once
// per CPU BLAS found: oneDNN (Debian libdnnl-dev) and OpenBLAS (libopenblas-dev). Called by
// `npm run setup`; by hand: `node --import tsx scripts/native-gemm-build.ts [--force]`.
// Output: native/build/Release/gemm_<library>.node and native/build/gemm.json (what was built,
// the versions, the key of the inputs, or the one-line reason nothing was). Not committed.
// When both build, each is timed on the product the fast path does most, [16, 512]·[512, 512], and
// the faster goes first in `built`, the order src/native-gemm.ts loads them in: oneDNN's sgemm was
// 2.5× OpenBLAS's on an AVX-512 CPU (Zen 5), and 1.4× slower on an AVX2 one (Zen 3).
// Nothing is rebuilt when the inputs (sources, Node, the libraries' headers) are unchanged.
// Without a compiler or a library the build is skipped with one line; training then uses XNNPACK.
import { createHash } from 'crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join, resolve } from 'path';
import { ROOT, run } from './notebook-env';
import { FOR, ensure } from './prerequisites';

export const NATIVE_DIR = join(ROOT, 'native');
export const BUILD_DIR = join(NATIVE_DIR, 'build');
export const RECORD = join(BUILD_DIR, 'gemm.json');

export type GemmLibrary = 'onednn' | 'openblas';

/** What a build left: the addons that load, their libraries' versions, or why there are none. */
export interface BuildRecord {
  key: string;
  built: GemmLibrary[];
  versions: Partial<Record<GemmLibrary, string>>;
  skipped: Partial<Record<GemmLibrary, string>>; // why a library was not built
  reason: string | null; // why nothing was built
  microseconds?: Partial<Record<GemmLibrary, number>>; // per [16, 512]·[512, 512] product, measured after the build
}

/** How to compile and link against a library: extra flags for g++, and gyp variables. */
interface Found {
  lib: GemmLibrary;
  cflags: string[];
  libs: string[];
  gyp: string[];
  headers: string[]; // files whose content identifies the version (part of the key)
}

const PROBES: Record<GemmLibrary, string> = {
  onednn: `#include <oneapi/dnnl/dnnl.h>
int main() { float a = 1, b = 1, c = 0; return dnnl_sgemm('N', 'N', 1, 1, 1, 1.f, &a, 1, &b, 1, 0.f, &c, 1) == dnnl_success && c == 1 ? 0 : 1; }`,
  openblas: `#include <cblas.h>
int main() { openblas_set_num_threads(1); float a = 1, b = 1, c = 0;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, 1, 1, 1.f, &a, 1, &b, 1, 0.f, &c, 1); return c == 1 ? 0 : 1; }`,
};

/** The C++ compiler node-gyp will use, or why there is none. */
export function compilerProblem(): string | null {
  const cxx = process.env.CXX || 'g++';
  if (run(cxx, ['--version']).status !== 0) return `no C++ compiler (${cxx}; Debian: apt-get install g++ make)`;
  if (run('make', ['--version']).status !== 0) return 'no make (Debian: apt-get install make)';
  return null;
}

/** Compiles, links and runs a one-line sgemm against the library: the library is usable or not. */
function probe(lib: GemmLibrary, cflags: string[], libs: string[]): string | null {
  const dir = join(tmpdir(), `rnn-workbook-gemm-probe-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    const src = join(dir, `${lib}.cc`);
    const exe = join(dir, lib);
    writeFileSync(src, PROBES[lib]);
    const c = run(process.env.CXX || 'g++', [...cflags, src, '-o', exe, ...libs]);
    if (c.status !== 0) return c.err.split('\n').find((l) => /error/.test(l))?.trim() ?? `${lib}: compiling a test failed`;
    const r = run(exe, []);
    return r.status === 0 ? null : `a test program linked against ${lib} failed (exit ${r.status})`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The multiarch triplet (x86_64-linux-gnu) Debian puts libraries and some headers under. */
function multiarch(): string {
  return run(process.env.CXX || 'g++', ['-print-multiarch']).out || 'x86_64-linux-gnu';
}

/** Libraries whose headers and shared library are installed, and why the others are not there. */
export function locateLibraries(): { found: Found[]; missing: Partial<Record<GemmLibrary, string>> } {
  const found: Found[] = [];
  const missing: Partial<Record<GemmLibrary, string>> = {};
  const onednnHeader = ['/usr/include/oneapi/dnnl/dnnl_version.h', '/usr/include/dnnl_version.h'].find((f) => existsSync(f));
  if (onednnHeader) found.push({ lib: 'onednn', cflags: [], libs: ['-ldnnl'], gyp: ['-Donednn=1'], headers: [onednnHeader] });
  else missing.onednn = 'no oneDNN headers (Debian: libdnnl-dev)';
  // Debian keeps OpenBLAS per threading variant: /usr/include/<triplet>/openblas-pthread/cblas.h, …
  const ma = multiarch();
  const dirs = ['openblas-pthread', 'openblas-openmp', 'openblas-serial']
    .map((v) => ({ inc: `/usr/include/${ma}/${v}`, lib: `/usr/lib/${ma}/${v}` }))
    .concat([{ inc: '/usr/include/openblas', lib: `/usr/lib/${ma}` }, { inc: '/usr/include', lib: `/usr/lib/${ma}` }]);
  const at = dirs.find((d) => existsSync(join(d.inc, 'cblas.h')) && existsSync(join(d.inc, 'openblas_config.h')) && existsSync(join(d.lib, 'libopenblas.so')));
  if (at) {
    found.push({
      lib: 'openblas',
      cflags: [`-I${at.inc}`],
      libs: [`-L${at.lib}`, `-Wl,-rpath,${at.lib}`, '-lopenblas'],
      gyp: ['-Dopenblas=1', `-Dopenblas_include=${at.inc}`, `-Dopenblas_lib=${at.lib}`],
      headers: [join(at.inc, 'openblas_config.h')],
    });
  } else missing.openblas = 'no OpenBLAS headers and library (Debian: libopenblas-dev)';
  return { found, missing };
}

/** node-gyp: npm's own (npm run sets npm_config_node_gyp), else the one beside this Node's npm. */
function nodeGyp(): string | null {
  const candidates = [process.env.npm_config_node_gyp, resolve(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js')];
  return candidates.find((f): f is string => !!f && existsSync(f)) ?? null;
}

/** Node's headers: npm's nodedir setting, else the ones installed beside this node (offline: no download). */
function nodeDir(): string | null {
  const candidates = [process.env.npm_config_nodedir, resolve(dirname(process.execPath), '..')];
  return candidates.find((d): d is string => !!d && existsSync(join(d, 'include', 'node', 'node_api.h'))) ?? null;
}

/** The key of a build's inputs: sources, Node's version, the libraries found and their headers. */
function buildKey(found: Found[]): string {
  const h = createHash('sha256').update(`${process.version}\0`);
  for (const f of ['gemm.cc', 'binding.gyp']) h.update(readFileSync(join(NATIVE_DIR, f))).update('\0');
  for (const f of found) {
    h.update(`${f.lib}\0${f.gyp.join(' ')}\0`);
    for (const header of f.headers) h.update(readFileSync(header)).update('\0');
  }
  return h.digest('hex');
}

export function readRecord(buildDir = BUILD_DIR): BuildRecord | null {
  try {
    return JSON.parse(readFileSync(join(buildDir, 'gemm.json'), 'utf8')) as BuildRecord;
  } catch {
    return null;
  }
}

function writeRecord(record: BuildRecord, buildDir: string): BuildRecord {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(join(buildDir, 'gemm.json'), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

const addonPath = (lib: GemmLibrary, buildDir = BUILD_DIR) => join(buildDir, 'Release', `gemm_${lib}.node`);

/** Loads a built addon in a fresh Node and returns its library's version, or why it does not load. */
function loadCheck(lib: GemmLibrary): { version: string } | { error: string } {
  const r = run(process.execPath, ['-e', `const i = require(${JSON.stringify(addonPath(lib))}).info(); console.log(i.version)`]);
  if (r.status !== 0) return { error: r.err.split('\n').find((l) => /Error/.test(l))?.trim() ?? `exit ${r.status}` };
  const v = r.out.split(' ');
  return { version: v[0] === 'OpenBLAS' ? v[1] : v[0] }; // OpenBLAS reports its whole build config
}

function off(buildDir: string, reason: string, skipped: BuildRecord['skipped'] = {}): BuildRecord {
  for (const lib of ['onednn', 'openblas'] as const) rmSync(addonPath(lib, buildDir), { force: true }); // a stale addon must not load
  return writeRecord({ key: '', built: [], versions: {}, skipped, reason }, buildDir);
}

/**
 * Builds what can be built and returns the record. `force` rebuilds even when the key matches.
 * `install`: when root with apt-get, install what is missing of libdnnl-dev and libopenblas-dev first.
 * `buildDir` (tests of the paths that build nothing): where the record goes; node-gyp itself
 * always builds into native/build.
 */
export function buildNativeGemm({
  force = false,
  install = false,
  log = console.log,
  buildDir = BUILD_DIR,
}: { force?: boolean; install?: boolean; log?: (line: string) => void; buildDir?: string } = {}): BuildRecord {
  const noCompiler = compilerProblem();
  if (noCompiler) return off(buildDir, noCompiler);
  if (install) {
    const line = ensure(FOR.gemm, { log });
    if (line) log(`native GEMM: ${line} (it builds against whichever is there)`);
  }
  const located = locateLibraries();
  if (located.found.length === 0) return off(buildDir, `no CPU BLAS to build against: ${Object.values(located.missing).join('; ')}`, located.missing);
  const gyp = nodeGyp();
  if (!gyp) return off(buildDir, 'node-gyp not found (it comes with npm; run the build through npm run setup)', located.missing);
  const nodedir = nodeDir();
  if (!nodedir) return off(buildDir, `Node's headers not found beside ${process.execPath} (Debian: apt-get install nodejs-dev; or npm config set nodedir)`, located.missing);
  const key = buildKey(located.found);
  const old = readRecord(buildDir);
  if (!force && old?.key === key && old.built.length > 0 && old.built.every((lib) => existsSync(addonPath(lib, buildDir)))) return old;
  // A library can be installed and still unusable (a broken link, another ABI): a one-line sgemm
  // compiled, linked and run against each decides.
  const missing = { ...located.missing };
  const found = located.found.filter((f) => {
    const why = probe(f.lib, f.cflags, f.libs);
    if (why) missing[f.lib] = why;
    return !why;
  });
  if (found.length === 0) return off(buildDir, `no CPU BLAS to build against: ${Object.values(missing).join('; ')}`, missing);
  const args = [gyp, 'rebuild', `--nodedir=${nodedir}`, '--', ...found.flatMap((f) => f.gyp)];
  const r = run(process.execPath, args, { cwd: NATIVE_DIR });
  if (r.status !== 0) {
    const err = `${r.out}\n${r.err}`.split('\n').find((l) => /error/i.test(l))?.trim() ?? `exit ${r.status}`;
    return off(buildDir, `node-gyp failed: ${err}`, missing);
  }
  const record: BuildRecord = { key, built: [], versions: {}, skipped: { ...missing }, reason: null };
  for (const f of found) {
    const loaded = loadCheck(f.lib);
    if ('error' in loaded) {
      record.skipped[f.lib] = `built but does not load: ${loaded.error}`;
      rmSync(addonPath(f.lib), { force: true });
    } else {
      record.built.push(f.lib);
      record.versions[f.lib] = loaded.version;
    }
  }
  if (record.built.length === 0) record.reason = Object.values(record.skipped).join('; ');
  else {
    record.microseconds = timeLibraries(record.built);
    record.built.sort((a, b) => (record.microseconds![a] ?? Infinity) - (record.microseconds![b] ?? Infinity)); // stable: ties keep oneDNN first
  }
  return writeRecord(record, buildDir);
}

/**
 * Microseconds per [16, 512]·[512, 512] product for each built addon, each in a fresh Node: the
 * best of 3 rounds, the libraries taking turns, so a busy moment of the machine hits both.
 */
export function timeLibraries(libs: GemmLibrary[], rounds = 3): Partial<Record<GemmLibrary, number>> {
  const best: Partial<Record<GemmLibrary, number>> = {};
  const script = (lib: GemmLibrary) => `
    const addon = require(${JSON.stringify(addonPath(lib))});
    const [M, K, N] = [16, 512, 512];
    const memory = new ArrayBuffer(4 * (M * K + K * N + M * N));
    new Float32Array(memory).forEach((_, i, a) => (a[i] = ((i * 7919) % 1000) / 1000 - 0.5));
    const product = () => addon.gemm(memory, false, false, M, N, K, 1, 0, 0, 4 * M * K, 0, 4 * (M * K + K * N), -1, 0, 0, 0, -1, 0);
    for (let i = 0; i < 50; i++) product();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 400; i++) product();
    console.log(Number(process.hrtime.bigint() - t0) / 1e3 / 400);`;
  for (let r = 0; r < rounds; r++) {
    for (const lib of libs) {
      const out = run(process.execPath, ['-e', script(lib)]);
      const us = Number(out.out);
      if (out.status === 0 && Number.isFinite(us) && us > 0) best[lib] = Math.min(best[lib] ?? Infinity, Math.round(us));
    }
  }
  return best;
}

/** The one line setup prints. */
export function describeRecord(record: BuildRecord): string {
  if (record.built.length === 0) return `native GEMM: off, training uses tfjs-wasm's XNNPACK (${record.reason})`;
  const labels: Record<GemmLibrary, string> = { onednn: 'oneDNN', openblas: 'OpenBLAS' };
  const us = record.microseconds ?? {};
  const built = record.built.map((lib) => `${labels[lib]} ${record.versions[lib]}${us[lib] ? ` (${us[lib]} µs)` : ''}`).join(', ');
  const timed = record.built.some((lib) => us[lib]);
  const order = record.built.length > 1 ? `; ${labels[record.built[0]]} is used${timed ? ', the faster here' : ''}` : '';
  return `native GEMM: ${built}${timed ? ' per [16, 512]·[512, 512] product' : ''} in native/build/Release${order}`;
}

if (require.main === module) {
  const force = process.argv.includes('--force');
  const record = buildNativeGemm({ force, install: process.argv.includes('--install') });
  console.log(describeRecord(record));
}
