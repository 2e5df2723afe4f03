#!/usr/bin/env python3
"""PyTorch peer of L2C's contrastive warm-up step (`l2c transfer|cluster --warm-up-steps N`), for BENCHMARKS.md.

One step: a global batch of B samples of Fashion-MNIST 5-9, two random views of each (rotation ±10°, scale 0.9-1.1,
shear ±10°, shift ±10% plus a whole-pixel shift of up to ±size/8, contrast × 0.6-1.4 and brightness ± 0.2, as L2C's
`affine,crop,jitter`), LeNet with BatchNorm and a Linear projection to 128, NT-Xent with τ = 0.5, backward, Adam.
Prints the mean time of steps 21..STEPS. Usage: torch_contrastive_step.py FASHION_IDX_FOLDER [STEPS] [BATCH] [THREADS]
"""
import gzip, math, sys, time
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

folder = sys.argv[1]
steps, batch = (int(sys.argv[2]) if len(sys.argv) > 2 else 300), (int(sys.argv[3]) if len(sys.argv) > 3 else 100)
torch.set_num_threads(int(sys.argv[4]) if len(sys.argv) > 4 else 2)
torch.manual_seed(1)


def idx(path):
    data = gzip.open(path).read()
    if data[3] == 3:
        n, h, w = np.frombuffer(data[4:16], '>i4')
        return np.frombuffer(data[16:], np.uint8).reshape(n, 1, h, w)
    return np.frombuffer(data[8:], np.uint8)


images = torch.tensor(idx(f'{folder}/train-images-idx3-ubyte.gz'), dtype=torch.float32) / 255
labels = torch.tensor(idx(f'{folder}/train-labels-idx1-ubyte.gz').astype(np.int64))
target = images[labels >= 5]

backbone = nn.Sequential(nn.Conv2d(1, 20, 5, bias=False), nn.BatchNorm2d(20), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(20, 50, 5, bias=False), nn.BatchNorm2d(50), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(800, 500, bias=False), nn.BatchNorm1d(500), nn.ReLU(), nn.Linear(500, 128))
optimizer = torch.optim.Adam(backbone.parameters(), 1e-3)


def view(x):
    n, u = len(x), lambda low, high: torch.empty(len(x)).uniform_(low, high)
    angle, shear, scale = u(-10, 10) * math.pi / 180, torch.tan(u(-10, 10) * math.pi / 180), u(0.9, 1.1)
    a, b = scale * torch.cos(angle), scale * (torch.cos(angle) * shear - torch.sin(angle))
    c, d = scale * torch.sin(angle), scale * (torch.sin(angle) * shear + torch.cos(angle))
    shift = (u(-0.1, 0.1)[:, None] + torch.randint(-4, 5, (n, 2)) / 28) * 2   # in grid units (2 = the whole side)
    inverse = torch.linalg.inv(torch.stack([torch.stack([a, b], 1), torch.stack([c, d], 1)], 1))
    theta = torch.cat([inverse, -(inverse @ shift[:, :, None])], 2)
    warped = F.grid_sample(x, F.affine_grid(theta, x.shape, align_corners=False), align_corners=False, padding_mode='border')
    return warped * u(0.6, 1.4)[:, None, None, None] + u(-0.2, 0.2)[:, None, None, None]


for step in range(1, steps + 1):
    if step == 21:
        start = time.time()
    x = target[torch.randint(0, len(target), (batch,))]
    z = F.normalize(backbone(torch.cat([view(x), view(x)])), dim=1)
    similarity = (z @ z.T / 0.5).fill_diagonal_(-1e9)
    loss = F.cross_entropy(similarity, torch.cat([torch.arange(batch, 2 * batch), torch.arange(0, batch)]))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
seconds = time.time() - start
print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, batch {batch}: steps 21-{steps} '
      f'{seconds / (steps - 20) * 1000:.1f} ms/step, {(steps - 20) * batch / seconds:.0f} samples/s, loss {loss.item():.3f}')
