// Shared by the tests that run PyTorch (Debian's python3-torch, or TORCH_PYTHON): without it each
// such test fails with the one line scripts/prerequisites.ts gives, naming the package to install.
import assert from 'node:assert/strict';
import { PYTORCH, torchPython } from '../scripts/prerequisites';
import { missing } from './needs';

export const PYTHON = torchPython();

/** Fails the calling test with one line naming the missing tool (in CI and locally alike). */
export function requireTorch(): void {
  const line = missing(PYTORCH);
  if (line) assert.fail(line);
}
