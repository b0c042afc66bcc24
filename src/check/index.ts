// rw.check: one check per exercise of the workbook, named after the function the learner writes.
// Each lesson's checks live in the file named after it; core.ts holds the machinery.
import type { AsyncCheck, Check } from './core';
import { clippingChecks } from './clipping';
import { implementationChecks } from './implementation';
import { lossChecks } from './loss';
import { overviewChecks } from './overview';
import { predictionChecks } from './prediction';
import { stateChecks } from './state';
import { trainingOutputChecks } from './training-output';

export const check = {
  ...overviewChecks, // 01
  ...trainingOutputChecks, // 02
  ...lossChecks, // 03
  ...clippingChecks, // 04
  ...stateChecks, // 05
  ...predictionChecks, // 06
  ...implementationChecks, // 07
};

/** Every check, for the unit tests and for `npm run exercises`. */
export const ALL_CHECKS: (Check | AsyncCheck)[] = Object.values(check);

export { NotWrittenYet, notWrittenYet, diff } from './core';
export type { Check, AsyncCheck, CheckResult, CheckSpec, Mistake, CheckCase } from './core';
