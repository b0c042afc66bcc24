import torch
import torch.nn.functional as F


class RNNModel:
    def __init__(self, vocab_size, num_hiddens):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        normal = lambda *shape: (torch.randn(*shape) * 0.01).requires_grad_()
        self.W_xh, self.W_hh = normal(vocab_size, num_hiddens), normal(num_hiddens, num_hiddens)
        self.b_h = torch.zeros(num_hiddens, requires_grad=True)
        self.W_hq, self.b_q = normal(num_hiddens, vocab_size), torch.zeros(vocab_size, requires_grad=True)

    def params(self):
        return [self.W_xh, self.W_hh, self.b_h, self.W_hq, self.b_q]

    def begin_state(self, batch_size):
        return torch.zeros(batch_size, self.num_hiddens)

    def forward(self, X, h):                  # X: [T, B, V] one-hot, h: [B, H]
        outputs = []
        for x in X:
            h = torch.tanh(x @ self.W_xh + h @ self.W_hh + self.b_h)   # tanh
            outputs.append(h @ self.W_hq + self.b_q)
        return torch.cat(outputs, dim=0), h   # [T*B, V], keeps the graph


def grad_clipping(model, theta):              # the notes' grad_clipping, as a function
    norm = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in model.params()))
    if norm > theta:
        for p in model.params():
            p.grad[:] *= theta / norm


def train_batch(model, X, Y, h, optimizer, theta=1.0):   # X, Y: [B, T] token indices
    inputs = F.one_hot(X.T, model.vocab_size).float()     # [T, B, V]
    logits, h = model.forward(inputs, h.detach())         # carry the state, cut the gradient
    loss = F.cross_entropy(logits, Y.T.reshape(-1))       # indices, time-major
    optimizer.zero_grad()
    loss.backward()                                       # backward
    grad_clipping(model, theta)
    optimizer.step()
    return loss.item(), h

