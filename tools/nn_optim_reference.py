"""Reference values for the optimizer tests in `nn/tests/nn.rs`.

Five steps of each optimizer on the loss  L(p) = sum(0.5 * c * p**2 + b * p)  in float64,
from the same start, with PyTorch's optimizers (and `clip_grad_norm_` where a max norm is
given). Prints the final parameters (shortest round-trip decimal form) as Rust array literals.

Usage: python3 tools/nn_optim_reference.py
"""

import torch

torch.set_default_dtype(torch.float64)

P0 = [0.5, -1.0, 2.0, 0.1, -0.3]
C = [1.0, 2.0, 0.5, 3.0, 1.5]
B = [0.1, -0.2, 0.3, 0.0, -0.1]
STEPS = 5

CASES = [
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.1), None),
    ("sgd_momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01), None),
    ("sgd_nesterov", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True), None),
    ("rmsprop", lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9), None),
    ("rmsprop_centered", lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1), None),
    ("adam", lambda p: torch.optim.Adam(p, lr=0.1, weight_decay=0.05), None),
    ("adamw", lambda p: torch.optim.AdamW(p, lr=0.1, weight_decay=0.1), None),
    ("adam_clipped", lambda p: torch.optim.Adam(p, lr=0.1), 0.5),
]

c, b = torch.tensor(C), torch.tensor(B)
for name, make, max_norm in CASES:
    p = torch.tensor(P0, requires_grad=True)
    opt = make([p])
    for _ in range(STEPS):
        opt.zero_grad()
        loss = (0.5 * c * p * p + b * p).sum()
        loss.backward()
        if max_norm is not None:
            torch.nn.utils.clip_grad_norm_([p], max_norm)
        opt.step()
    vals = ", ".join(repr(x) for x in p.detach().tolist())
    print(f'("{name}", [{vals}]),')
