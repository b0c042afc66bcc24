// The notes' PyTorch code, run for real: notebooks/pytorch/notes_original.py is the seed's code
// unchanged, run_notes.py records what PyTorch does at every bug, and the lessons quote that record.
// Each test checks one outcome twice: in the live run, and verbatim in the lesson's prose — so a
// torch upgrade that changes a message, or an edit of the prose, cannot make them disagree silently.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PYTHON, requireTorch } from './torch';

const ROOT = path.resolve(__dirname, '..');
const PYTORCH_DIR = path.join(ROOT, 'notebooks', 'pytorch');
const SEED_NAME = '000_bfb8e4438f80038e.txt';

/** The learner's notes: $RNN_WORKBOOK_SEED, else ../shared/seed beside the clone (CI), else /work/shared/seed. */
function seedFile(): string {
  const candidates = [
    process.env.RNN_WORKBOOK_SEED,
    path.resolve(ROOT, '..', 'shared', 'seed', SEED_NAME),
    path.join('/work/shared/seed', SEED_NAME),
  ].filter((f): f is string => Boolean(f));
  const found = candidates.find((f) => fs.existsSync(f));
  assert.ok(found, `the notes (${SEED_NAME}) are missing: looked in ${candidates.join(', ')}; set RNN_WORKBOOK_SEED`);
  return found;
}

/**
 * The code cells of a notebook export: the lines after each prompt line ("In [22]:" in the seed,
 * "# In [22]:" in notes_original.py) up to the next prompt, or up to a line of prose (one that starts
 * with a non-ASCII character, like the notes' closing sentence). Trailing blank lines dropped.
 */
function codeCells(text: string, prompt: RegExp): Map<string, string> {
  const cells = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of text.split('\n')) {
    const m = prompt.exec(line);
    if (m) {
      current = [];
      cells.set(m[1], current);
    } else if (current && line.length > 0 && line.charCodeAt(0) > 127) {
      current = null;
    } else if (current) {
      current.push(line);
    }
  }
  return new Map([...cells].map(([n, lines]) => [n, lines.join('\n').replace(/\s+$/, '')]));
}

/** All markdown of a lesson, joined. */
function lessonMarkdown(prefix: string): string {
  const file = fs.readdirSync(path.join(ROOT, 'notebooks')).find((f) => f.startsWith(prefix) && f.endsWith('.ipynb'));
  assert.ok(file, `no notebook ${prefix}-*.ipynb`);
  const nb = JSON.parse(fs.readFileSync(path.join(ROOT, 'notebooks', file), 'utf8')) as { cells: { cell_type: string; source: string[] | string }[] };
  return nb.cells
    .filter((c) => c.cell_type === 'markdown')
    .map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source))
    .join('\n');
}

/** Asserts that a lesson quotes `text` verbatim. */
function assertQuoted(lesson: string, text: string): void {
  assert.ok(lessonMarkdown(lesson).includes(text), `lesson ${lesson} should quote the real outcome verbatim: ${text}`);
}

/** What run_notes.py records for one call: its value, or the exception. */
interface Outcome {
  raises: boolean;
  value?: unknown;
  type?: string;
  message?: string;
  quote?: string; // "Type: first line of the message"
  line?: string | null; // the notes' line that raised it
  innermost?: string; // "file.py:function: line" where PyTorch raised it
  fixes: string[];
}
type Run = Record<string, any>;

function raised(o: Outcome, type: string, line?: string): string {
  assert.equal(o.raises, true, `expected ${type}, but it ran and returned ${JSON.stringify(o.value)}`);
  assert.equal(o.type, type, `raised ${o.quote}`);
  if (line !== undefined) assert.equal(o.line, line);
  return o.quote!;
}

function ran(o: Outcome): any {
  assert.equal(o.raises, false, `raised ${o.quote} at ${o.line}`);
  return o.value;
}

/** A number as the lessons print it: three significant digits, JavaScript's notation (2.71e+11). */
const p3 = (x: number) => x.toPrecision(3);

describe("the notes' original code", () => {
  it('is the seed\'s three code cells byte for byte, with only a header added', () => {
    const seed = codeCells(fs.readFileSync(seedFile(), 'utf8'), /^In \[(\d+)\]:$/);
    const file = fs.readFileSync(path.join(PYTORCH_DIR, 'notes_original.py'), 'utf8');
    const ours = codeCells(file, /^# In \[(\d+)\]:$/);
    assert.deepEqual([...seed.keys()], ['22', '23', '24']);
    assert.deepEqual([...ours.keys()], [...seed.keys()]);
    for (const [n, code] of seed) assert.equal(ours.get(n), code, `cell In [${n}] differs from the notes`);
    const header = file.slice(0, file.indexOf('# In [22]:'));
    assert.ok(header.split('\n').every((l) => l === '' || l.startsWith('#')), 'the header is comments only');
    assert.match(header, /ORIGINAL CODE, UNFIXED/);
  });
});

let cachedRun: Run | undefined;

/** run_notes.py's JSON record, run once; fails the calling test in one line when torch is missing. */
function notesRun(): Run {
  requireTorch();
  if (!cachedRun) {
    const out = spawnSync(PYTHON, [path.join(PYTORCH_DIR, 'run_notes.py')], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      maxBuffer: 16 * 1024 * 1024,
    });
    assert.equal(out.status, 0, `run_notes.py failed: ${out.stderr}`);
    cachedRun = JSON.parse(out.stdout) as Run;
  }
  return cachedRun;
}

describe("the notes' code under PyTorch, as the lessons quote it", () => {
  let r: Run;
  beforeEach(() => {
    r = notesRun();
  });

  it('builds the parameters with d2l\'s shapes and count, and random output biases', () => {
    const init = ran(r.init);
    assert.deepEqual(init.param_shapes, [[512, 512], [28, 512], [512], [512, 28], [28]]);
    assert.equal(init.num_params, 291356);
    assert.equal(init.all_leaf_and_requires_grad, true);
    assert.equal(init.b_h_all_zero, true);
    assert.equal(init.b_y_all_zero, false);
    assert.deepEqual(ran(r.init_state), { shape: [32, 512], all_zero: true });
  });

  it('stops in forward at torch.tensor(Y), for forward and for model(X) alike', () => {
    const quote = raised(r.torch_tensor_Y.forward, 'ValueError', 'return torch.tensor(Y), (h,)');
    assert.equal(raised(r.torch_tensor_Y.call, 'ValueError'), quote);
    assertQuoted('07', `\`${quote}\``);
    const scalars = ran(r.torch_tensor_Y.on_scalars);
    assert.equal(scalars.grad_fn, null);
    assert.equal(scalars.requires_grad, false);
    assertQuoted('07', '`requires_grad=False` and `grad_fn=None`');
  });

  it('keeps the graph when forward returns the list, which loss_func concatenates time-major', () => {
    const list = ran(r.cat_y_hat.on_list);
    assert.deepEqual(list.shape, [35 * 32, 28]);
    assert.equal(list.grad_fn, 'CatBackward0');
    assertQuoted('07', `\`[${list.shape.join(', ')}]\` with \`grad_fn\` \`${list.grad_fn}\``);
  });

  it('raises a TypeError when torch.cat gets a tensor instead of a sequence, in y1 and in y2', () => {
    const quote = raised(r.cat_y_hat.on_tensor_cat, 'TypeError', 'y1 = torch.cat(y_hat, dim=0)');
    assert.equal(raised(r.cat_y_hat.on_tensor_stack, 'TypeError'), quote);
    assert.equal(raised(r.cat_y.one_hot_tensor, 'TypeError', 'y2 = torch.cat(y, dim=0)'), quote);
    assert.equal(raised(r.cat_y.index_tensor, 'TypeError', 'y2 = torch.cat(y, dim=0)'), quote);
    assertQuoted('07', `\`${quote}\``);
    assertQuoted('07', '**`torch.cat` on a tensor.**');
  });

  it('raises a RuntimeError in CrossEntropyLoss(y1, y2) instead of building a module', () => {
    const quote = raised(r.cross_entropy_class.notes_loss_func, 'RuntimeError', 'return torch.nn.CrossEntropyLoss(y1, y2)');
    // the constructor's legacy size_average argument is tested for truth: `if size_average and reduce:`
    assert.equal(r.cross_entropy_class.notes_loss_func.innermost, '_reduction.py:legacy_get_string: if size_average and reduce:');
    assertQuoted('07', `\`${r.cross_entropy_class.notes_loss_func.innermost.split(': ').slice(1).join(': ')}\` in \`torch/nn/_reduction.py\``);
    assert.equal(raised(r.cross_entropy_class.with_index_targets, 'RuntimeError'), quote);
    assertQuoted('07', `\`${quote}\``);
  });

  it('accepts one-hot targets: they give the loss of the class indices', () => {
    const v = ran(r.one_hot_targets);
    assert.ok(v.max_abs_difference < 1e-5, `one-hot ${v.loss_one_hot} vs indices ${v.loss_indices}`);
    assert.ok(Math.abs(v.loss_indices - Math.log(28)) < 0.05, 'an untrained model scores about ln 28');
    assertQuoted('07', `give the same loss, ${p3(v.loss_indices)} (≈ ln 28`);
  });

  it('runs without error when [B, T] labels are flattened as is, and mispairs all but two rows', () => {
    const v = ran(r.label_order);
    assert.equal(v.runs_without_error, true);
    assert.equal(v.rows_scored_against_another_position, v.rows - 2);
    for (const lesson of ['03', '07']) assertQuoted(lesson, `${v.rows_scored_against_another_position} of the ${v.rows} rows`);
  });

  it('meets backword only when the line runs, after the loss is computed', () => {
    assert.equal(r.backword.module_imports, true);
    const quote = raised(r.backword.on_loss, 'AttributeError', 'loss.backword()');
    assertQuoted('07', `\`${quote}\``);
  });

  it("stops train_batch where lesson 07's table says, one fix at a time, then runs and trains", () => {
    const stages = r.train_batch.stages as Outcome[];
    assert.deepEqual(stages.map((s) => s.fixes.length), [0, 1, 2, 3, 4]);
    assert.deepEqual(stages.map((s) => s.line ?? null), [
      'return torch.tensor(Y), (h,)',
      'y2 = torch.cat(y, dim=0)',
      'return torch.nn.CrossEntropyLoss(y1, y2)',
      'loss.backword()',
      null,
    ]);
    for (const s of stages.slice(0, 4)) assertQuoted('07', `| \`${s.line}\` | \`${s.quote}\` |`);
    ran(stages[4]);
    const run = ran(r.train_batch.runs_after_fixes);
    assert.ok(run.last_loss < run.first_loss, `the loss should fall: ${run.first_loss} → ${run.last_loss}`);
    assertQuoted('07', `${run.steps} calls on the same minibatch lower the loss from ${run.first_loss.toFixed(3)} to ${run.last_loss.toFixed(3)}`);
  });

  it('lets the state grow without bound without tanh, and hides it at initialisation', () => {
    const n = r.no_tanh.norm_after_T_steps;
    assert.equal(n.without_tanh_x1, n.with_tanh_x1, 'near 0, tanh(a) ≈ a');
    assert.ok(n.without_tanh_x10 > 1e6, `‖h‖ without tanh, W_hh × 10: ${n.without_tanh_x10}`);
    assert.ok(n.with_tanh_x10 < r.no_tanh.bound_sqrt_H);
    assertQuoted('07', `is ${p3(n.without_tanh_x1)} at d2l's initialisation — and ${p3(n.with_tanh_x1)} with \`tanh\` as well`);
    assertQuoted('07', `it becomes ${p3(n.without_tanh_x10)} without \`tanh\`, against ${p3(n.with_tanh_x10)} with it (the bound $\\sqrt{512}$ is ${p3(r.no_tanh.bound_sqrt_H)})`);
  });

  it('clips like torch.nn.utils.clip_grad_norm_ once backward has run, and raises on missing gradients', () => {
    const v = ran(r.grad_clipping.after_backward);
    assert.ok(Math.abs(v.norm_after - 1) < 1e-5);
    assert.ok(v.max_abs_difference_from_clip_grad_norm_ < 1e-6);
    const quote = raised(r.grad_clipping.grads_none, 'TypeError', 'norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in self.get_parameters()))');
    for (const lesson of ['04', '07']) {
      assertQuoted(lesson, `gradients of norm ${v.norm_before}, it leaves norm 1 and the same gradients as`);
      assertQuoted(lesson, `\`torch.nn.utils.clip_grad_norm_\` to within ${Number(v.max_abs_difference_from_clip_grad_norm_.toPrecision(2))}`);
      assertQuoted(lesson, `\`${quote}\``);
    }
  });

  it('needs the optimizer built from get_parameters(): RNNModel has no parameters()', () => {
    assert.equal(ran(r.get_parameters.sgd_over_get_parameters), 'SGD');
    assertQuoted('07', `\`${raised(r.get_parameters.model_parameters, 'AttributeError')}\``);
  });

  it('cannot be handed the previous state, and starts from zeros on every call', () => {
    const quote = raised(r.state_not_carried.pass_state, 'TypeError');
    assert.equal(ran(r.state_not_carried.same_output_twice), true);
    for (const lesson of ['05', '07']) assertQuoted(lesson, `\`${quote}\``);
  });

  it('stops prefict at the fed-back integer one-hot; with .float() its warm-up is right', () => {
    const quote = raised(r.prefict.float_prefix, 'RuntimeError',
      'h = h @ self.w_hh + functional.one_hot(y, self.vocab_size).reshape(1, -1) @ self.w_xh + self.b_h');
    assert.equal(raised(r.prefict.int_prefix, 'RuntimeError', 'h = h @ self.w_hh + x.reshape(1, -1) @ self.w_xh + self.b_h'), quote);
    assert.equal(raised(r.int_one_hot_input, 'RuntimeError', 'h = h @ self.w_hh + x @ self.w_xh + self.b_h'), quote);
    assert.deepEqual(ran(r.prefict.zero_predictions).shape, [0]);
    for (const lesson of ['06', '07']) assertQuoted(lesson, `\`${quote}\``);
    const fixed = ran(r.prefict.fixed);
    assert.equal(fixed.first_equals_forward_last_step_argmax, true);
    assert.equal(fixed.dtype, 'torch.int64');
    assert.equal(fixed.tensors_saved_under_no_grad, 0);
    assert.ok(fixed.tensors_saved_for_backward > 0);
    assertQuoted('07', `PyTorch saved ${fixed.tensors_saved_for_backward} tensors for a backward pass that never comes (0 under \`torch.no_grad()\`)`);
  });

  it("fails the second backward when lesson 07's fixed code carries the state without detach", () => {
    const quote = raised(r.fixed_without_detach, 'RuntimeError');
    const start = quote.replace('RuntimeError: ', '').split(' (')[0]; // "Trying to backward through the graph a second time"
    assertQuoted('05', `"${start.replace('Trying to backward', 'Trying to\nbackward')}"`);
  });
});

describe("lesson 07's fixed PyTorch code", () => {
  it('is notebooks/pytorch/rnn_fixed.py, verbatim', () => {
    const md = lessonMarkdown('07');
    const heading = md.indexOf("### The notes' code, fixed");
    assert.ok(heading >= 0, "lesson 07 has a section \"The notes' code, fixed\"");
    const block = /```python\n([\s\S]*?)```/.exec(md.slice(heading));
    assert.ok(block, 'the section shows a python code block');
    assert.equal(block[1].trimEnd(), fs.readFileSync(path.join(PYTORCH_DIR, 'rnn_fixed.py'), 'utf8').trimEnd());
  });
});
