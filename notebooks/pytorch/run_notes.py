"""Runs the notes' original PyTorch code (notes_original.py) function by function and records what
really happens: the exception (type, message, and the notes' line that raised it) or the silent
wrong value. Where an earlier bug stops execution, the later steps run again with the smallest
fix of the earlier bug(s), and each record lists the fixes it applied ("fixes"), so every function
and every bug gets its own outcome. Prints one JSON document on stdout; lesson 07 quotes it and
test/notes.test.ts checks the lessons against it.

Run with Debian's Python and torch:  /usr/bin/python3 notebooks/pytorch/run_notes.py
"""
import json
import math
import os
import sys
import traceback
import warnings

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import notes_original as notes  # noqa: E402  (the notes' code, unfixed)
import rnn_fixed  # noqa: E402  (lesson 07's fixed code)

V, H, B, T = 28, 512, 32, 35  # d2l's vocabSize, numHiddens, batchSize, numSteps
NOTES_FILE = os.path.join(HERE, 'notes_original.py')


def sig(x, digits=3):
    """A float rounded to `digits` significant digits, so the lessons can quote it."""
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return x
    return float(f'{x:.{digits - 1}e}')


# The runner's copies of the notes' functions with an earlier bug fixed: their lines are the notes' lines.
FIXED_COPIES = {'forward', 'prefict', 'loss_func_cat_fixed', 'loss_func_fixed', 'backword_on_loss'}


def notes_line(exc):
    """The source line (stripped) of the innermost traceback frame in the notes' code or in one of the
    runner's fixed copies of it; None when the exception came from elsewhere."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        in_notes = os.path.abspath(frame.filename) == NOTES_FILE
        in_copy = os.path.abspath(frame.filename) == os.path.abspath(__file__) and frame.name in FIXED_COPIES
        if in_notes or in_copy:
            line = frame.line
    return line


def innermost_frame(exc):
    """Where the exception was raised, as "file.py:function: source line" (None inside C code)."""
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1]
    return f'{os.path.basename(last.filename)}:{last.name}: {last.line}'


def outcome(fn, fixes=()):
    """Runs fn(); records its value (JSON-able) or the exception it raises, plus any warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            record = {'raises': False, 'value': fn()}
        except Exception as exc:  # the point is to record whatever PyTorch raises
            record = {'raises': True, 'type': type(exc).__name__, 'message': str(exc),
                      'quote': f'{type(exc).__name__}: {str(exc).splitlines()[0]}', 'line': notes_line(exc),
                      'innermost': innermost_frame(exc)}
    record['warnings'] = [f'{w.category.__name__}: {w.message}' for w in caught]
    record['fixes'] = list(fixes)
    return record


def graph_node(t):
    return type(t.grad_fn).__name__ if t.grad_fn is not None else None


# ---- the smallest fixes, each named; a record lists the ones it needed --------------------------
FIX_RETURN_LIST = 'forward returns the list Y instead of torch.tensor(Y)'
FIX_RETURN_STACK = 'forward returns torch.stack(Y), a [T, B, V] tensor as the loss_func comment says'
FIX_RETURN_CAT = "forward returns torch.cat(Y, dim=0), lesson 07's and d2l's fix"
FIX_CAT_Y = 'loss_func concatenates torch.cat(list(y), dim=0): y is a [T, B, V] tensor'
FIX_CE_CALL = 'loss_func calls torch.nn.CrossEntropyLoss()(y1, y2)'
FIX_BACKWARD = 'loss.backword() spelt loss.backward() (torch.Tensor.backword aliased to backward)'
FIX_ONE_HOT_FLOAT = 'prefict feeds functional.one_hot(y, vocab_size).float()'


class ReturnsList(notes.RNNModel):
    """The notes' forward with one change: it returns the list Y, which keeps the graph."""

    def forward(self, X):
        h = self.init_state(X.shape[1])
        Y = []
        for x in X:
            h = h @ self.w_hh + x @ self.w_xh + self.b_h
            y = h @ self.w_y + self.b_y
            Y.append(y)
        return Y, (h,)  # was: torch.tensor(Y), (h,)


class ReturnsListTanh(notes.RNNModel):
    """Fixed twice: returns the list Y, and squashes the state with tanh (for comparison only)."""

    def forward(self, X):
        h = self.init_state(X.shape[1])
        Y = []
        for x in X:
            h = torch.tanh(h @ self.w_hh + x @ self.w_xh + self.b_h)
            y = h @ self.w_y + self.b_y
            Y.append(y)
        return Y, (h,)


class FloatOneHot(notes.RNNModel):
    """The notes' prefict with one change: the fed-back one-hot is converted to float."""

    def prefict(self, prefix, num_predic):
        h = self.init_state(1)
        for x in prefix:
            h = h @ self.w_hh + x.reshape(1, -1) @ self.w_xh + self.b_h
        Y = []
        for _ in range(num_predic):
            y = (h @ self.w_y + self.b_y).flatten().argmax()
            h = h @ self.w_hh + functional_one_hot_float(y, self.vocab_size).reshape(1, -1) @ self.w_xh + self.b_h
            Y.append(y)
        return torch.tensor(Y)


def functional_one_hot_float(y, vocab_size):
    return F.one_hot(y, vocab_size).float()


def loss_func_cat_fixed(y_hat, y):
    """The notes' loss_func with the y2 line fixed; still constructs the class."""
    y1 = torch.cat(y_hat, dim=0)
    y2 = torch.cat(list(y), dim=0)
    return torch.nn.CrossEntropyLoss(y1, y2)


def loss_func_fixed(y_hat, y):
    """The notes' loss_func with the y2 line and the CrossEntropyLoss call fixed."""
    y1 = torch.cat(y_hat, dim=0)
    y2 = torch.cat(list(y), dim=0)
    return torch.nn.CrossEntropyLoss()(y1, y2)


class Patched:
    """Temporarily replaces notes.loss_func and/or adds torch.Tensor.backword, so that the notes' own
    train_batch runs unchanged with earlier bugs fixed."""

    def __init__(self, loss_func=None, backword=False):
        self.loss_func, self.backword = loss_func, backword

    def __enter__(self):
        self.saved = notes.loss_func
        if self.loss_func is not None:
            notes.loss_func = self.loss_func
        if self.backword:
            torch.Tensor.backword = torch.Tensor.backward

    def __exit__(self, *exc):
        notes.loss_func = self.saved
        if self.backword:
            del torch.Tensor.backword


# ---- inputs: d2l's shapes, time-major one-hot ----------------------------------------------------
def make_inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, V, (B, T + 1), generator=g)  # B sequences of T + 1 characters
    X_idx, Y_idx = tokens[:, :-1], tokens[:, 1:]  # [B, T] each, as d2l's data loader hands them out
    X = F.one_hot(X_idx.T, V).float()  # [T, B, V], d2l: F.one_hot(X.T, vocab_size).type(torch.float32)
    Y = F.one_hot(Y_idx.T, V).float()  # [T, B, V], the shape the notes' loss_func comment gives for y
    return X_idx, Y_idx, X, Y


def new_model(cls=notes.RNNModel, seed=0):
    torch.manual_seed(seed)
    return cls(T, V, H)


def run():
    X_idx, Y_idx, X, Y = make_inputs()
    r = {'torch_version': torch.__version__, 'shapes': {'V': V, 'H': H, 'B': B, 'T': T}}

    # __init__ and get_parameters
    model = new_model()
    params = model.get_parameters()
    r['init'] = outcome(lambda: {
        'param_shapes': [list(p.shape) for p in params],
        'all_leaf_and_requires_grad': all(p.is_leaf and p.requires_grad for p in params),
        'b_h_all_zero': bool((model.b_h == 0).all()),
        'b_y_all_zero': bool((model.b_y == 0).all()),
        'b_y_std': sig(model.b_y.std()),
        'num_params': sum(p.numel() for p in params),
    })
    r['get_parameters'] = {
        'sgd_over_get_parameters': outcome(lambda: type(torch.optim.SGD(model.get_parameters(), lr=1)).__name__),
        'model_parameters': outcome(lambda: torch.optim.SGD(model.parameters(), lr=1)),
    }

    # init_state
    r['init_state'] = outcome(lambda: {
        'shape': list(model.init_state(B).shape),
        'all_zero': bool((model.init_state(B) == 0).all()),
    })

    # forward: torch.tensor(Y)
    r['torch_tensor_Y'] = {
        'forward': outcome(lambda: model.forward(X)),
        'call': outcome(lambda: model(X)),
        # torch.tensor on one-element tensors does run, and returns a tensor with no history
        'on_scalars': outcome(lambda: (lambda t: {'grad_fn': graph_node(t), 'requires_grad': t.requires_grad})(
            torch.tensor([y.sum() for y in ReturnsList(T, V, H).forward(X)[0]])), [FIX_RETURN_LIST]),
        'fixed_list': outcome(lambda: (lambda Ys: {'len': len(Ys), 'item_shape': list(Ys[0].shape),
                                                    'grad_fn': graph_node(Ys[0])})(ReturnsList(T, V, H).forward(X)[0]),
                              [FIX_RETURN_LIST]),
    }

    # forward fed F.one_hot's integer tensor directly
    r['int_one_hot_input'] = outcome(lambda: model.forward(F.one_hot(X_idx.T, V)))

    # no tanh: ‖h_t‖ per sequence (mean over the batch) after t steps, d2l's init and W_hh × 10
    def state_norms(cls, scale):
        m = new_model(cls)
        with torch.no_grad():
            m.w_hh *= scale
            norms = [m.forward(X[:t])[1][0].norm(dim=1).mean().item() for t in range(1, T + 1)]
        return [sig(n) for n in norms]

    no_tanh = {f'{name}_x{scale}': state_norms(cls, scale)
               for name, cls in (('without_tanh', ReturnsList), ('with_tanh', ReturnsListTanh)) for scale in (1, 10)}
    r['no_tanh'] = {
        'fixes': [FIX_RETURN_LIST],
        'bound_sqrt_H': sig(math.sqrt(H)),
        'norm_after_T_steps': {k: v[-1] for k, v in no_tanh.items()},
        'norm_by_step': no_tanh,
    }

    # loss_func
    model_l = new_model(ReturnsList)
    y_hat, _ = model_l.forward(X)
    y1 = torch.cat(y_hat, dim=0)  # [T*B, V]
    y2 = torch.cat(list(Y), dim=0)  # [T*B, V] one-hot
    labels_time_major = Y_idx.T.reshape(-1)  # [T*B], d2l: Y.T.reshape(-1)
    r['cat_y_hat'] = {
        'on_list': outcome(lambda: {'shape': list(torch.cat(y_hat, dim=0).shape), 'grad_fn': graph_node(y1)},
                           [FIX_RETURN_LIST]),
        'on_tensor_stack': outcome(lambda: notes.loss_func(torch.stack(y_hat), Y), [FIX_RETURN_STACK]),
        'on_tensor_cat': outcome(lambda: notes.loss_func(torch.cat(y_hat, dim=0), Y), [FIX_RETURN_CAT]),
    }
    r['cat_y'] = {
        'one_hot_tensor': outcome(lambda: notes.loss_func(y_hat, Y), [FIX_RETURN_LIST]),
        'index_tensor': outcome(lambda: notes.loss_func(y_hat, Y_idx), [FIX_RETURN_LIST]),
    }
    r['cross_entropy_class'] = {
        'notes_loss_func': outcome(lambda: notes.loss_func(y_hat, list(Y)), [FIX_RETURN_LIST, FIX_CAT_Y]),
        'with_index_targets': outcome(lambda: torch.nn.CrossEntropyLoss(y1, labels_time_major), [FIX_RETURN_LIST]),
        'fixed': outcome(lambda: sig(loss_func_fixed(y_hat, Y).item(), 6), [FIX_RETURN_LIST, FIX_CAT_Y, FIX_CE_CALL]),
    }
    r['one_hot_targets'] = outcome(lambda: {
        'loss_one_hot': sig(torch.nn.CrossEntropyLoss()(y1, y2).item(), 6),
        'loss_indices': sig(F.cross_entropy(y1, labels_time_major).item(), 6),
        'max_abs_difference': abs(torch.nn.CrossEntropyLoss()(y1, y2).item() - F.cross_entropy(y1, labels_time_major).item()),
    }, [FIX_RETURN_LIST, FIX_CAT_Y, FIX_CE_CALL])
    flat_as_is = Y_idx.reshape(-1)  # b*T + t order
    r['label_order'] = outcome(lambda: {
        'runs_without_error': F.cross_entropy(y1, flat_as_is).dim() == 0,
        'rows_scored_against_another_position': int(sum(
            1 for row in range(T * B) if (row // B, row % B) != (row % T, row // T))),
        'rows': T * B,
    }, [FIX_RETURN_LIST, FIX_CE_CALL])

    # backword
    def backword_on_loss():
        loss = loss_func_fixed(y_hat, Y)
        loss.backword()
    r['backword'] = {
        'module_imports': True,  # notes_original was imported above: the typo sits unnoticed until the line runs
        'on_loss': outcome(backword_on_loss, [FIX_RETURN_LIST, FIX_CAT_Y, FIX_CE_CALL]),
    }

    # train_batch, the notes' own function, with a real optimizer; fixes added one by one
    def train_once(cls, loss_func=None, backword=False, fixes=()):
        m = new_model(cls)
        opt = torch.optim.SGD(m.get_parameters(), lr=1)
        with Patched(loss_func, backword):
            return outcome(lambda: notes.train_batch(m, X, Y, opt), fixes)

    stages = [
        train_once(notes.RNNModel),
        train_once(ReturnsList, fixes=[FIX_RETURN_LIST]),
        train_once(ReturnsList, loss_func_cat_fixed, fixes=[FIX_RETURN_LIST, FIX_CAT_Y]),
        train_once(ReturnsList, loss_func_fixed, fixes=[FIX_RETURN_LIST, FIX_CAT_Y, FIX_CE_CALL]),
        train_once(ReturnsList, loss_func_fixed, True, [FIX_RETURN_LIST, FIX_CAT_Y, FIX_CE_CALL, FIX_BACKWARD]),
    ]

    def training_run(steps=20):
        m = new_model(ReturnsList)
        opt = torch.optim.SGD(m.get_parameters(), lr=1)
        losses, norms = [], []
        with Patched(loss_func_fixed, True):
            for _ in range(steps):
                with torch.no_grad():
                    losses.append(loss_func_fixed(m.forward(X)[0], Y).item())
                notes.train_batch(m, X, Y, opt)
                norms.append(math.sqrt(sum(float((p.grad ** 2).sum()) for p in m.get_parameters())))
        return {'steps': steps, 'first_loss': sig(losses[0], 4), 'last_loss': sig(losses[-1], 4),
                'grad_norm_after_clipping_max': sig(max(norms), 4)}

    r['train_batch'] = {
        'stages': stages,
        'runs_after_fixes': outcome(training_run, [FIX_RETURN_LIST, FIX_CAT_Y, FIX_CE_CALL, FIX_BACKWARD]),
    }

    # grad_clipping
    def clip_fresh():
        m = new_model()
        m.grad_clipping(1)

    def clip_vs_torch():
        m = new_model(ReturnsList)
        loss_func_fixed(m.forward(X)[0], Y).backward()
        ps = m.get_parameters()
        with torch.no_grad():  # scale the gradients so that clipping has work to do
            for p in ps:
                p.grad *= 100
        ref = [p.grad.clone() for p in ps]
        norm_before = math.sqrt(sum(float((g ** 2).sum()) for g in ref))
        m.grad_clipping(1)
        ref_params = [torch.zeros_like(p, requires_grad=True) for p in ps]
        for rp, g in zip(ref_params, ref):
            rp.grad = g
        torch.nn.utils.clip_grad_norm_(ref_params, 1)
        return {'norm_before': sig(norm_before, 4),
                'norm_after': sig(math.sqrt(sum(float((p.grad ** 2).sum()) for p in ps)), 6),
                'max_abs_difference_from_clip_grad_norm_': max(float((p.grad - rp.grad).abs().max())
                                                               for p, rp in zip(ps, ref_params))}

    r['grad_clipping'] = {
        'grads_none': outcome(clip_fresh),
        'after_backward': outcome(clip_vs_torch, [FIX_RETURN_LIST, FIX_CAT_Y, FIX_CE_CALL]),
    }

    # the state can never be carried
    def carry():
        _, (h,) = new_model(ReturnsList).forward(X)  # the final state of one minibatch ...
        return new_model().forward(X, h)  # ... cannot be handed to the notes' forward
    r['state_not_carried'] = {
        'pass_state': outcome(carry),
        'same_output_twice': outcome(lambda: (lambda m: bool(torch.equal(m.forward(X)[0][0], m.forward(X)[0][0])))(
            new_model(ReturnsList)), [FIX_RETURN_LIST]),
    }

    # prefict
    prefix_idx = X_idx[0, :10]  # the first 10 characters of sequence 0
    prefix_float = F.one_hot(prefix_idx, V).float()  # (len, vocab_size) as its comment says
    prefix_int = F.one_hot(prefix_idx, V)

    def prefict_fixed():
        m = new_model(FloatOneHot)
        saved = []
        with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(1) or t, lambda t: t):
            out = m.prefict(prefix_float, 20)
        with torch.no_grad():
            none_saved = []
            with torch.autograd.graph.saved_tensors_hooks(lambda t: none_saved.append(1) or t, lambda t: t):
                m.prefict(prefix_float, 20)
        # warm-up check: the first prediction is the argmax of the forward pass's last step on the prefix
        logits_last = ReturnsList.forward(m, prefix_float.reshape(10, 1, V))[0][-1]
        return {'shape': list(out.shape), 'dtype': str(out.dtype), 'first': int(out[0]),
                'first_equals_forward_last_step_argmax': int(out[0]) == int(logits_last.argmax()),
                'tensors_saved_for_backward': len(saved), 'tensors_saved_under_no_grad': len(none_saved),
                'distinct_tokens': len(set(out.tolist()))}

    r['prefict'] = {
        'float_prefix': outcome(lambda: new_model().prefict(prefix_float, 20)),
        'int_prefix': outcome(lambda: new_model().prefict(prefix_int, 20)),
        'zero_predictions': outcome(lambda: (lambda t: {'shape': list(t.shape), 'dtype': str(t.dtype)})(
            new_model().prefict(prefix_float, 0))),
        'fixed': outcome(prefict_fixed, [FIX_ONE_HOT_FLOAT]),
    }

    # lesson 05: a carried state without detach, in lesson 07's fixed code
    def no_detach():
        torch.manual_seed(0)
        m = rnn_fixed.RNNModel(V, 64)
        opt = torch.optim.SGD(m.params(), lr=1)
        h = m.begin_state(B)
        for _ in range(2):
            logits, h = m.forward(F.one_hot(X_idx.T, V).float(), h)  # no h.detach()
            loss = F.cross_entropy(logits, Y_idx.T.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
    r['fixed_without_detach'] = outcome(no_detach)
    return r


def jsonable(x):
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, torch.Tensor):
        return {'tensor_shape': list(x.shape), 'dtype': str(x.dtype)}
    if isinstance(x, torch.optim.Optimizer):
        return type(x).__name__
    return x


if __name__ == '__main__':
    print(json.dumps(jsonable(run()), indent=1, ensure_ascii=False))
