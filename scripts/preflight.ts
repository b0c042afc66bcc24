// Checks made once, before any notebook runs, so a missing corpus or a kernel that cannot start
// fails in seconds with one line instead of once per notebook behind a stack trace.
import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { CorpusError, TIME_MACHINE_URL, defaultDataDir, downloadTimeMachine } from '../src/corpus';
import { KERNEL_DISPLAY_NAME, KERNEL_NAME, ROOT } from './notebook-env';

/** How long the corpus download may take here: offline (packets dropped) must fail within 15 s in all; the file is ~180 kB. */
export const CORPUS_TIMEOUT_MS = 8_000;

/**
 * null when The Time Machine is in RNN_WORKBOOK_DATA (or the user cache), or was just downloaded
 * there; else one line saying what is wrong and what to do.
 */
export async function corpusProblem(timeoutMs = CORPUS_TIMEOUT_MS): Promise<string | null> {
  try {
    await downloadTimeMachine(defaultDataDir(), TIME_MACHINE_URL, timeoutMs);
    return null;
  } catch (e) {
    if (e instanceof CorpusError) return `corpus: ${e.message}`;
    throw e;
  }
}

/**
 * A one-cell notebook that imports the library on the project kernel: it fails if the kernel does
 * not start, the package link is missing or dist/ does not load.
 */
export function writeKernelCheck(dir = join(ROOT, '.cache', 'preflight')): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'kernel-check.ipynb');
  const nb = {
    nbformat: 4,
    nbformat_minor: 4,
    metadata: { kernelspec: { name: KERNEL_NAME, display_name: KERNEL_DISPLAY_NAME, language: 'typescript' } },
    cells: [
      {
        cell_type: 'code',
        execution_count: null,
        metadata: {},
        outputs: [],
        source: 'import * as rw from "rnn-workbook";\nif (typeof rw.plotSetup !== "function") throw new Error("rnn-workbook loaded without plotSetup");',
      },
    ],
  };
  writeFileSync(file, JSON.stringify(nb));
  return file;
}
