"""Trains lesson 07's fixed PyTorch model (rnn_fixed.py) from given initial parameters on given
minibatches, carrying the state, and prints the loss of every step as JSON. test/twin.test.ts feeds
it the TypeScript model's parameters and minibatches and compares the losses step by step.

Usage: /usr/bin/python3 notebooks/pytorch/twin.py case.json
case.json: {"V", "H", "B", "T", "lr", "theta", "params": {"W_xh": [...], ...} (row-major, float32 values),
            "batches": [{"X": [...], "Y": [...]}, ...] ([B, T] token indices, row-major)}
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rnn_fixed import RNNModel, train_batch  # noqa: E402


def main(path):
    case = json.load(open(path))
    V, H, B, T = case['V'], case['H'], case['B'], case['T']
    model = RNNModel(V, H)
    with torch.no_grad():
        for name, p in zip(['W_xh', 'W_hh', 'b_h', 'W_hq', 'b_q'], model.params()):
            p.copy_(torch.tensor(case['params'][name], dtype=torch.float32).reshape(p.shape))
    optimizer = torch.optim.SGD(model.params(), lr=case['lr'])
    h = model.begin_state(B)
    losses = []
    for batch in case['batches']:
        X = torch.tensor(batch['X'], dtype=torch.long).reshape(B, T)
        Y = torch.tensor(batch['Y'], dtype=torch.long).reshape(B, T)
        loss, h = train_batch(model, X, Y, h, optimizer, case['theta'])
        losses.append(loss)
    print(json.dumps({'losses': losses}))


if __name__ == '__main__':
    main(sys.argv[1])
