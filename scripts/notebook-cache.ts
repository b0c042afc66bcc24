// Skips re-executing a notebook whose result cannot have changed. An executed copy is reused when
// the key stored beside it (<copy>.key) equals the key of this run: a sha256 of the notebook's
// source, the library it imports (every file of dist/, built from src/ just before), the locked
// dependency versions, the preset, the environment variables that change what the library does,
// which native GEMM is built (its record: libraries and versions; float rounding differs from
// XNNPACK's), and Node's version. Content, not timestamps: a rebuild of an unchanged src/ keeps the key.
import { createHash } from 'crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { join, relative } from 'path';
import { RECORD } from './native-gemm-build';
import { ROOT } from './notebook-env';

const VERSION = 'rnn-workbook notebook cache 1';
/** Environment variables the notebooks' results depend on (the preset is passed on its own). */
export const KEYED_ENV = ['RNN_BACKEND', 'RNN_PARALLEL', 'RNN_NATIVE', 'RNN_NATIVE_DIR'] as const;

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && !e.name.endsWith('.tsbuildinfo'))
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .sort();
}

/** sha256 of the library as notebooks see it: dist/ (path and content of every file) and package-lock.json. */
export function libraryDigest(root = ROOT): string {
  const h = createHash('sha256');
  for (const file of [...filesUnder(join(root, 'dist')), join(root, 'package-lock.json')]) {
    if (!existsSync(file)) continue;
    h.update(`${relative(root, file)}\0`).update(readFileSync(file)).update('\0');
  }
  return h.digest('hex');
}

/** Which native GEMM the notebooks will load: what the last build recorded ('' when never built). */
export function nativeGemmDigest(record = RECORD): string {
  if (!existsSync(record)) return '';
  const { built, versions } = JSON.parse(readFileSync(record, 'utf8')) as { built: string[]; versions: Record<string, string> };
  return built.map((lib) => `${lib} ${versions[lib]}`).join(', ');
}

/** The key of running `notebook` against `library` (libraryDigest()) with `preset` in `env`. */
export function cacheKey(notebook: string, library: string, preset: string | undefined, env: NodeJS.ProcessEnv = process.env, gemm = nativeGemmDigest()): string {
  const h = createHash('sha256');
  h.update(`${VERSION}\0${process.version}\0${library}\0preset=${preset ?? ''}\0gemm=${gemm}\0`);
  for (const name of KEYED_ENV) h.update(`${name}=${env[name] ?? ''}\0`);
  return h.update(readFileSync(notebook)).digest('hex');
}

const keyFile = (output: string): string => `${output}.key`;

/** Whether `output` is an executed copy made with `key` (and is still there). */
export function isCached(output: string, key: string): boolean {
  return existsSync(output) && existsSync(keyFile(output)) && readFileSync(keyFile(output), 'utf8').trim() === key;
}

/** Records that `output` was executed cleanly with `key`. */
export function remember(output: string, key: string): void {
  writeFileSync(keyFile(output), `${key}\n`);
}

/** Before a run: whatever happens next, the old copy no longer stands for this key. */
export function forget(output: string): void {
  rmSync(keyFile(output), { force: true });
}
