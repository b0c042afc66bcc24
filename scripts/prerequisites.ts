// The system tools the notebooks and the tests need, checked in one place and installed from
// Debian when we may (root with apt-get); otherwise one line naming what is missing and the exact
// command to run. Nothing is reinstalled: when all are there, the checks take a few seconds of CPU
// (mostly Python importing torch and nbclient).
//
//   node --import tsx scripts/prerequisites.ts notebooks   (npm run setup: Jupyter)
//   node --import tsx scripts/prerequisites.ts test        (npm test's pretest: all of them, and the corpus)
//   node --import tsx scripts/prerequisites.ts gemm        (npm run setup: oneDNN and OpenBLAS for the optional native GEMM)
//   ... --check                                            (only check: what a user who is not root gets)
//
// Overrides, for machines that keep the tools elsewhere (and to try the missing-tool paths):
// CHROMIUM=/path/to/chromium, TORCH_PYTHON=/path/to/python3, JUPYTER_PYTHON=/path/to/python3.
import { existsSync, readdirSync } from 'fs';
import { jupyterPython, run } from './notebook-env';
import { corpusProblem } from './preflight';

export interface Prerequisite {
  name: string; // what the one line calls it
  why: string; // what needs it
  packages: string[]; // Debian packages that provide it
  present: () => boolean;
}

/** Headless Chromium for the lesson-page browser tests (playwright-core drives it; no download). */
export function chromiumPath(): string {
  return process.env.CHROMIUM || '/usr/bin/chromium';
}

/** The Python the PyTorch comparisons run: Debian's, not whatever python3 a PATH (pyenv, venv) gives. */
export function torchPython(): string {
  return process.env.TORCH_PYTHON || '/usr/bin/python3';
}

export const JUPYTER: Prerequisite = {
  name: 'Jupyter',
  why: 'runs the notebooks',
  packages: ['jupyter-notebook', 'jupyter-nbconvert', 'jupyter-client'],
  present: () => run('jupyter', ['nbconvert', '--version']).status === 0 && jupyterPython() !== null,
};

export const CHROMIUM: Prerequisite = {
  name: 'Chromium',
  why: 'the lesson-page browser tests',
  packages: ['chromium'],
  present: () => existsSync(chromiumPath()),
};

export const PYTORCH: Prerequisite = {
  name: 'PyTorch',
  why: 'the reference the gradient tests compare against',
  packages: ['python3-torch'],
  present: () => run(torchPython(), ['-c', 'import torch']).status === 0,
};

const CJK_FONT_FILES = ['/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc'];

export const CJK_FONT: Prerequisite = {
  name: 'a CJK font',
  why: "the lessons' Chinese headings in screenshots",
  packages: ['fonts-wqy-microhei'],
  // fc-list comes with Debian's fontconfig, which a fresh machine may lack even with the font.
  present: () => run('fc-list', [':lang=zh', 'family']).out !== '' || CJK_FONT_FILES.some((f) => existsSync(f)),
};

/**
 * oneDNN and OpenBLAS for the optional native GEMM (scripts/native-gemm-build.ts builds against
 * both and uses the faster on the machine: oneDNN on an AVX-512 CPU, OpenBLAS on an AVX2 one here).
 */
export const ONEDNN: Prerequisite = {
  name: 'oneDNN',
  why: 'the native matrix multiply that speeds up training (optional)',
  packages: ['libdnnl-dev'],
  present: () => ['/usr/include/oneapi/dnnl/dnnl.h', '/usr/include/dnnl.h'].some((f) => existsSync(f)),
};

export const OPENBLAS: Prerequisite = {
  name: 'OpenBLAS',
  why: 'the native matrix multiply that speeds up training (optional)',
  packages: ['libopenblas-dev'],
  // Debian keeps it per threading variant, under the multiarch triplet: /usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h, …
  present: () => {
    const triplets = existsSync('/usr/include') ? readdirSync('/usr/include').filter((d) => d.endsWith('-linux-gnu')) : [];
    const dirs = [...triplets.flatMap((t) => ['openblas-pthread', 'openblas-openmp', 'openblas-serial'].map((v) => `/usr/include/${t}/${v}`)), '/usr/include/openblas'];
    return dirs.some((d) => existsSync(`${d}/cblas.h`) && existsSync(`${d}/openblas_config.h`));
  },
};

export const FOR = {
  notebooks: [JUPYTER],
  gemm: [ONEDNN, OPENBLAS],
  test: [JUPYTER, CHROMIUM, PYTORCH, CJK_FONT],
} as const satisfies Record<string, readonly Prerequisite[]>;

export type Plan =
  | { action: 'none' }
  | { action: 'install'; packages: string[]; commands: string[][] }
  | { action: 'fail'; line: string };

/**
 * What to do about the missing prerequisites: nothing, install them (root with apt-get), or stop
 * with one line naming them and the command to run. Pure, so the tests can try every case.
 */
export function plan(missing: readonly Prerequisite[], host: { root: boolean; apt: boolean }): Plan {
  if (missing.length === 0) return { action: 'none' };
  const packages = [...new Set(missing.flatMap((p) => p.packages))];
  const install = ['apt-get', 'install', '-y', '--no-install-recommends', ...packages];
  if (host.root && host.apt) return { action: 'install', packages, commands: [['apt-get', 'update'], install] };
  const what = missing.map((p) => `${p.name} (${p.why})`).join(', ');
  const how = host.apt ? `sudo ${install.join(' ')}` : `install the equivalent of Debian's ${packages.join(' ')}`;
  return { action: 'fail', line: `missing: ${what}; run: ${how}` };
}

/** One line naming what is missing and how to install it, or null when all are there. */
export function missingLine(prerequisites: readonly Prerequisite[]): string | null {
  const p = plan(prerequisites.filter((q) => !q.present()), { root: false, apt: true });
  return p.action === 'fail' ? p.line : null;
}

function thisHost(): { root: boolean; apt: boolean } {
  return { root: process.getuid?.() === 0, apt: run('apt-get', ['--version']).status === 0 };
}

/**
 * Checks `prerequisites`, installs the missing ones when root with apt-get, and checks again.
 * Returns null when all are present, else the one line to print.
 */
export function ensure(
  prerequisites: readonly Prerequisite[],
  { log = console.log, host = thisHost() }: { log?: (line: string) => void; host?: { root: boolean; apt: boolean } } = {},
): string | null {
  const missing = prerequisites.filter((p) => !p.present());
  const todo = plan(missing, host);
  if (todo.action === 'none') return null;
  if (todo.action === 'fail') return todo.line;
  log(`installing from Debian: ${todo.packages.join(' ')} (for ${missing.map((p) => p.why).join('; ')})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const [cmd, ...args] of todo.commands) {
    const r = run(cmd!, args, { stdio: 'inherit', env });
    if (r.status !== 0) return `${[cmd, ...args].join(' ')} failed (exit ${r.status}); run it by hand and try again`;
  }
  const still = missing.filter((p) => !p.present());
  return still.length ? `still missing after apt-get install: ${still.map((p) => p.name).join(', ')}` : null;
}

if (require.main === module) {
  const [which, flag] = process.argv.slice(2) as [keyof typeof FOR, string | undefined];
  if (!(which in FOR) || (flag !== undefined && flag !== '--check')) {
    console.error(`usage: scripts/prerequisites.ts ${Object.keys(FOR).join('|')} [--check]   (--check: never install)`);
    process.exit(2);
  }
  void (async () => {
    const host = flag === '--check' ? { ...thisHost(), root: false } : thisHost();
    // The tests also read the corpus: offline without it, say so now rather than in dozens of tests.
    const line = ensure(FOR[which], { host }) ?? (which === 'test' ? await corpusProblem() : null);
    if (line) {
      console.error(line);
      process.exitCode = 1;
    }
  })();
}
