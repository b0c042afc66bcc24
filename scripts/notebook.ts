// npm run notebook: the classic Notebook on notebooks/, wherever a learner runs it. As root (a
// container, Binder) Jupyter refuses to start without --allow-root; without a display there is no
// browser to open, so it only prints the URL (with its token) to paste into one. Extra arguments
// go to Jupyter: npm run notebook -- --port 8890 --ip 0.0.0.0
import { spawn } from 'child_process';
import { join } from 'path';
import { ROOT } from './notebook-env';

export function notebookArgs(extra: string[], host: { root: boolean; display: boolean }): string[] {
  const args = ['notebook', `--notebook-dir=${join(ROOT, 'notebooks')}`];
  if (host.root) args.push('--allow-root');
  if (!host.display) args.push('--no-browser');
  return [...args, ...extra];
}

/** A browser can open here: a desktop session, or macOS/Windows (which always have one). */
function hasDisplay(env: NodeJS.ProcessEnv = process.env): boolean {
  return process.platform === 'darwin' || process.platform === 'win32' || Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

if (require.main === module) {
  const args = notebookArgs(process.argv.slice(2), { root: process.getuid?.() === 0, display: hasDisplay() });
  console.log(`jupyter ${args.join(' ')}\nJupyter prints the URL to open (with its token) below; Ctrl-C stops the server.`);
  const child = spawn('jupyter', args, { stdio: 'inherit' });
  child.on('error', (e) => {
    console.error(`cannot start jupyter (${e.message}); run npm run setup first`);
    process.exitCode = 1;
  });
  child.on('exit', (code, signal) => (process.exitCode = code ?? (signal ? 130 : 1)));
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
}
