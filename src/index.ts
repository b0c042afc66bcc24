// rnn-workbook: a character-level RNN from scratch. Each module's header names the lesson that teaches it.
export * from './autograd';
export * from './backend';
export * from './batches';
export * from './bptt';
export * from './checkpoint';
export * from './clipping';
export * from './config';
export * from './corpus';
export * from './loss';
export * from './metrics';
export * from './model';
export * from './plot';
export * from './predict';
export * from './random';
export * from './state';
export * from './train';
export * from './vocab';
export { check, notWrittenYet, NotWrittenYet } from './check';
