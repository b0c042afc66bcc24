// npm run setup: everything between `npm install` and opening a notebook. Safe to run again.
//   1. Jupyter (nbconvert, nbclient): checked; installed from Debian when root with apt-get
//      (scripts/prerequisites.ts; the tests' own tools are installed by npm test's pretest).
//   2. node_modules/rnn-workbook → project root, so notebooks `import * as rw from 'rnn-workbook'`.
//   3. The library built into dist/ (notebooks import the compiled build, not src/).
//   4. The tslab kernel spec in the user's Jupyter data dir, starting this checkout's tslab.
//   5. The optional native GEMM (scripts/native-gemm-build.ts), when g++ and oneDNN or OpenBLAS are
//      there (libdnnl-dev and libopenblas-dev installed with apt-get when root); otherwise one line, and training uses XNNPACK.
import { existsSync } from 'fs';
import { join } from 'path';
import { buildNativeGemm, describeRecord } from './native-gemm-build';
import { KERNEL_NAME, buildLibrary, jupyterPython, linkPackage, run, writeKernelSpec } from './notebook-env';
import { FOR, ensure } from './prerequisites';

function ensureJupyter(): void {
  const line = ensure(FOR.notebooks);
  if (line) throw new Error(`${line}\n  (elsewhere: python3 -m pip install --user notebook nbconvert nbclient; set JUPYTER_PYTHON=/path/to/python if nbclient lives in a Python that is not python3)`);
  console.log(`jupyter: nbconvert ${run('jupyter', ['nbconvert', '--version']).out}, nbclient in ${jupyterPython()}`);
}

/** Installs the spec user-level and checks Jupyter resolves the name `tslab` to it. */
function installKernel(): void {
  const dataDir = run('jupyter', ['--data-dir']);
  if (dataDir.status !== 0) throw new Error(`jupyter --data-dir failed: ${dataDir.err}`);
  const kernelsDir = join(dataDir.out, 'kernels');
  const change = writeKernelSpec(kernelsDir);
  const list = run('jupyter', ['kernelspec', 'list', '--json']);
  const specs = JSON.parse(list.out) as { kernelspecs: Record<string, { resource_dir: string }> };
  const found = specs.kernelspecs[KERNEL_NAME]?.resource_dir;
  const ours = join(kernelsDir, KERNEL_NAME);
  if (found !== ours) throw new Error(`jupyter resolves kernel '${KERNEL_NAME}' to ${found}, not ${ours} (JUPYTER_PATH?)`);
  console.log(`kernel: ${KERNEL_NAME} ${change} in ${ours}`);
}

function main(): void {
  const steps: [string, () => void][] = [
    ['jupyter', ensureJupyter],
    ['package link', () => console.log(`package link: node_modules/rnn-workbook ${linkPackage()}`)],
    ['build', () => (buildLibrary(), console.log('build: dist/src/index.js up to date'))],
    ['kernel', installKernel],
    ['native GEMM', () => console.log(describeRecord(buildNativeGemm({ install: true })))], // optional: never fails setup
  ];
  let failed = 0;
  for (const [name, step] of steps) {
    try {
      step();
    } catch (e) {
      failed++;
      console.error(`${name}: ${(e as Error).message}`);
    }
  }
  if (!failed && existsSync(join(__dirname, '..', 'notebooks'))) {
    console.log('ready: npm run notebook  (or open notebooks/ in VS Code and pick the TypeScript kernel)');
  }
  process.exitCode = failed ? 1 : 0;
}

main();
