// Shared by the tests that run PyTorch: Debian's python3-torch, found or reported in one line.
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';

export const PYTHON = '/usr/bin/python3';

/** Why torch cannot run, or null when it can. */
export function torchMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} cannot run (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} cannot import torch: ${r.stderr.trim().split('\n').pop()}`;
  return null;
}

let checked: string | null | undefined;

/** Fails the calling test with one line naming the missing tool (in CI and locally alike). */
export function requireTorch(): void {
  if (checked === undefined) checked = torchMissing();
  if (checked) assert.fail(`python3-torch missing: apt-get install python3-torch (${checked})`);
}
