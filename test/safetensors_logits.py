"""Opens an rnn-workbook checkpoint as a safetensors file with nothing but json and struct, rebuilds
the RNN in PyTorch from its five tensors (d2l's rnn, in float64), and prints as JSON the logits of
one minibatch from a zero state, time-major rows [T*B, V], with the vocabulary and config it read.

    python3 test/safetensors_logits.py CHECKPOINT BATCH_JSON    # BATCH_JSON: {"X": [[token, ...], ...]}, [B, T]

Run by test/safetensors.test.ts; `safetensors.torch.load_file(CHECKPOINT)` gives the same tensors.
"""
import json
import struct
import sys

import torch
import torch.nn.functional as F


def load_safetensors(path):
    """The tensors by name (float32, as stored) and the metadata (a str -> str map) of a safetensors file."""
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])               # little-endian uint64: the header's length
    header = json.loads(raw[8:8 + n].decode('utf-8'))
    data = raw[8 + n:]
    metadata = header.pop('__metadata__', {})
    tensors = {}
    for name, info in header.items():
        assert info['dtype'] == 'F32', f"{name}: dtype {info['dtype']}"
        begin, end = info['data_offsets']            # relative to the end of the header
        values = struct.unpack(f'<{(end - begin) // 4}f', data[begin:end])
        tensors[name] = torch.tensor(values, dtype=torch.float32).reshape(info['shape'])
    return tensors, metadata


def rnn_logits(p, X):
    """d2l's rnn from a zero state: X [B, T] token indices -> logits [T*B, V], time-major."""
    V, H = p['W_xh'].shape
    h = torch.zeros(X.shape[0], H, dtype=torch.float64)
    outputs = []
    for x in F.one_hot(X.T, V).double():             # x: [B, V], one time step
        h = torch.tanh(x @ p['W_xh'] + h @ p['W_hh'] + p['b_h'])
        outputs.append(h @ p['W_hq'] + p['b_q'])
    return torch.cat(outputs, dim=0)


def main():
    tensors, metadata = load_safetensors(sys.argv[1])
    params = {name: t.double() for name, t in tensors.items()}
    X = torch.tensor(json.load(open(sys.argv[2]))['X'], dtype=torch.long)
    print(json.dumps({
        'names': list(tensors),
        'shapes': {name: list(t.shape) for name, t in tensors.items()},
        'vocab': json.loads(metadata['vocab']),
        'config': json.loads(metadata['config']),
        'epoch': json.loads(metadata['epoch']),
        'logits': rnn_logits(params, X).reshape(-1).tolist(),
    }))


if __name__ == '__main__':
    main()
