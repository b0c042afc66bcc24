// The corpus: d2l's *The Time Machine*, found locally or downloaded once, checked and cached;
// or any text file of the user's. Taught in 01-rnn-overview ("a forward pass on real text").
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const TIME_MACHINE_URL = 'http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt';
export const TIME_MACHINE_SHA1 = '090b5e7e70c295757f55df93cb0a180b9691891a';
export const TIME_MACHINE_FILE = 'timemachine.txt';
/** Larger corpora are refused: the whole text is held in memory as one token per character. */
export const MAX_CORPUS_BYTES = 32 * 1024 * 1024;

/** A corpus that cannot be used: missing, empty, binary, too large, or failing its checksum. */
export class CorpusError extends Error {
  override name = 'CorpusError';
}

/** Where the corpus is looked for and cached: `dataDir`, else $RNN_WORKBOOK_DATA, else the user cache. */
export function defaultDataDir(): string {
  if (process.env.RNN_WORKBOOK_DATA) return path.resolve(process.env.RNN_WORKBOOK_DATA);
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'rnn-workbook');
}

/** Refuses an RNN_WORKBOOK_DATA that is set but is not a folder (it would be looked into, and written to). */
export function checkDataDirEnv(): void {
  const v = process.env.RNN_WORKBOOK_DATA;
  if (!v) return;
  let stat: fs.Stats;
  try {
    stat = fs.statSync(v);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return; // created when the corpus is downloaded
    throw new CorpusError(`RNN_WORKBOOK_DATA='${v}' cannot be used (${code}); point it at the folder holding ${TIME_MACHINE_FILE}`);
  }
  if (!stat.isDirectory()) {
    throw new CorpusError(`RNN_WORKBOOK_DATA='${v}' is a file, not a folder; point it at the folder holding ${TIME_MACHINE_FILE}, e.g. RNN_WORKBOOK_DATA=${path.dirname(path.resolve(v))}`);
  }
}

export function sha1(data: Uint8Array): string {
  return createHash('sha1').update(data).digest('hex');
}

/**
 * Returns the path of a verified timemachine.txt, downloading it into `dataDir` when absent.
 * The download is written to a temporary file and renamed into place only once its sha1 matches,
 * so no partial or corrupt file is ever left where the next run would trust it.
 */
export async function downloadTimeMachine(dataDir = defaultDataDir(), url = TIME_MACHINE_URL, timeoutMs = 60_000): Promise<string> {
  const file = path.join(dataDir, TIME_MACHINE_FILE);
  if (fs.existsSync(file)) {
    const digest = sha1(fs.readFileSync(file));
    if (digest !== TIME_MACHINE_SHA1) {
      throw new CorpusError(`${file} has sha1 ${digest}, expected ${TIME_MACHINE_SHA1}; delete it to download it again from ${url}`);
    }
    return file;
  }
  let body: Uint8Array;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) }); // a silent server must not hang the run
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code; // fetch's 'fetch failed' alone does not say why: ENOTFOUND = offline
    throw new CorpusError(
      `${TIME_MACHINE_FILE} is not in ${dataDir} and downloading ${url} failed (${(err as Error).message}${cause ? `: ${cause}` : ''}); ` +
        `download it by hand and set RNN_WORKBOOK_DATA to its folder`,
    );
  }
  const digest = sha1(body);
  if (digest !== TIME_MACHINE_SHA1) {
    throw new CorpusError(`downloaded ${url} has sha1 ${digest}, expected ${TIME_MACHINE_SHA1}; nothing was saved`);
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, body);
  fs.renameSync(tmp, file);
  return file;
}

/**
 * Reads a user's text file, refusing what cannot be a corpus with a message that says why:
 * missing, a symlink loop, a directory, a FIFO or device, unreadable, empty, binary (NUL bytes),
 * or over MAX_CORPUS_BYTES. Files that report size 0 but have content (/proc) are read, bounded.
 */
export function readTextFile(file: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CorpusError(`corpus file '${file}' does not exist; pass a text file with --corpus FILE`);
    if (code === 'ELOOP') throw new CorpusError(`corpus file '${file}' is a loop of symbolic links (ELOOP); point --corpus at the real file`);
    if (code === 'EACCES') throw new CorpusError(`corpus file '${file}' cannot be reached (EACCES): a folder on its path is not readable; check the folders' permissions`);
    throw new CorpusError(`corpus file '${file}' cannot be read (${code}); pass a plain text file with --corpus FILE`);
  }
  if (stat.isDirectory()) throw new CorpusError(`corpus '${file}' is a directory; pass a text file with --corpus FILE`);
  if (!stat.isFile()) throw new CorpusError(`corpus '${file}' is ${kindOf(stat)}, not a regular file; save the text to a file and pass that with --corpus FILE`);
  if (stat.size > MAX_CORPUS_BYTES) throw tooLarge(file, stat.size);
  let bytes: Buffer;
  try {
    bytes = readAtMost(file, MAX_CORPUS_BYTES + 1);
  } catch (err) {
    throw new CorpusError(`corpus file '${file}' cannot be read (${(err as NodeJS.ErrnoException).code}); check its permissions`);
  }
  if (bytes.length > MAX_CORPUS_BYTES) throw tooLarge(file, bytes.length);
  if (bytes.length === 0) throw new CorpusError(`corpus file '${file}' is empty; pass a text file with some text in it`);
  if (bytes.includes(0)) throw new CorpusError(`corpus file '${file}' looks binary (it has NUL bytes); pass a plain text file`);
  return bytes.toString('utf8');
}

function tooLarge(file: string, size: number): CorpusError {
  const mib = size > MAX_CORPUS_BYTES + 1 || size < MAX_CORPUS_BYTES ? `${(size / 2 ** 20).toFixed(1)} MiB` : `over ${MAX_CORPUS_BYTES / 2 ** 20} MiB`;
  return new CorpusError(`corpus file '${file}' is ${mib}, over the ${MAX_CORPUS_BYTES / 2 ** 20} MiB limit; use a smaller file or cut it`);
}

function kindOf(stat: fs.Stats): string {
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Up to `limit` bytes of a regular file, reading until its end (a /proc file's size says 0). */
function readAtMost(file: string, limit: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(1 << 20, limit - total));
      const n = chunk.length === 0 ? 0 : fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
    }
    return Buffer.concat(chunks);
  } finally {
    fs.closeSync(fd);
  }
}

/** d2l's preprocessing of one line: every run of non-letters becomes one space, then trim and lowercase. */
export function preprocessLine(line: string): string {
  return line.replace(/[^A-Za-z]+/g, ' ').trim().toLowerCase();
}

/** Splits a text into preprocessed lines (d2l keeps empty ones; tokenizing them yields nothing). */
export function preprocessText(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop(); // a final newline ends the last line, as in Python's readlines
  return lines.map(preprocessLine);
}

/** The Time Machine as d2l's `read_time_machine` returns it: 3,221 preprocessed lines, 170,580 letters and spaces. */
export async function readTimeMachine(opts: { dataDir?: string } = {}): Promise<string[]> {
  const file = await downloadTimeMachine(opts.dataDir ?? defaultDataDir());
  return preprocessText(fs.readFileSync(file, 'utf8'));
}

/** Lines of the corpus to train on: the user's file when given, else The Time Machine. */
export async function readCorpusLines(opts: { corpusFile?: string; dataDir?: string } = {}): Promise<string[]> {
  if (!opts.corpusFile) return readTimeMachine(opts);
  const lines = preprocessText(readTextFile(opts.corpusFile));
  if (lines.every((l) => l.length === 0)) {
    throw new CorpusError(`corpus file '${opts.corpusFile}' has no letters A–Z after preprocessing; the workbook trains on English letters and spaces`);
  }
  return lines;
}
