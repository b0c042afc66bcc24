// npm run setup: everything between `npm install` and opening a notebook. Safe to run again.
//   1. Jupyter (nbconvert, nbclient): checked; installed from Debian when root with apt-get.
//   2. node_modules/rnn-workbook → project root, so notebooks `import * as rw from 'rnn-workbook'`.
//   3. The library built into dist/ (notebooks import the compiled build, not src/).
//   4. The tslab kernel spec in the user's Jupyter data dir, starting this checkout's tslab.
import { existsSync } from 'fs';
import { join } from 'path';
import { KERNEL_NAME, buildLibrary, jupyterPython, linkPackage, run, writeKernelSpec } from './notebook-env';

const DEBIAN_PACKAGES = ['jupyter-notebook', 'jupyter-nbconvert', 'jupyter-client'];

function ensureJupyter(): void {
  const version = run('jupyter', ['nbconvert', '--version']);
  if (version.status === 0 && jupyterPython()) {
    console.log(`jupyter: nbconvert ${version.out}, nbclient in ${jupyterPython()}`);
    return;
  }
  const root = process.getuid?.() === 0;
  if (root && run('apt-get', ['--version']).status === 0) {
    console.log(`jupyter: missing; apt-get install ${DEBIAN_PACKAGES.join(' ')}`);
    for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...DEBIAN_PACKAGES]]) {
      const r = run('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
      if (r.status !== 0) throw new Error(`apt-get ${args[0]} failed (exit ${r.status})`);
    }
    if (run('jupyter', ['nbconvert', '--version']).status === 0 && jupyterPython()) return;
  }
  throw new Error(
    'Jupyter is missing. Install it, then run npm run setup again:\n' +
      `  Debian/Ubuntu: sudo apt-get install ${DEBIAN_PACKAGES.join(' ')}\n` +
      '  elsewhere:     python3 -m pip install --user notebook nbconvert nbclient\n' +
      '(set JUPYTER_PYTHON=/path/to/python if nbclient lives in a Python that is not python3)',
  );
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
    console.log('ready: jupyter notebook notebooks/  (or open them in VS Code and pick the TypeScript kernel)');
  }
  process.exitCode = failed ? 1 : 0;
}

main();
