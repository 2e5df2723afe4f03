"""PyTorch CPU training-step throughput for the same steps as `l2c bench`.

Usage (torch is not a project dependency; install it in a virtual environment):
    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch
    /tmp/torchenv/bin/python benchmarks/pytorch_bench.py --model resnet18 --image-size 224 --batch-size 32 --threads 2 --steps 5
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /tmp/torchenv/bin/python benchmarks/pytorch_bench.py ...
    ... --precision bf16: forward and loss under torch.autocast("cpu", dtype=torch.bfloat16), PyTorch's mixed precision

One step = forward, cross-entropy, backward, SGD (momentum 0.9, weight decay 1e-4), as `l2c bench`, on a fixed
random batch. ResNets are torchvision's definitions (v1.5: stride on the 3×3 of a bottleneck); inputs under
64 pixels use the small-image stem (3×3 conv, no max-pool). The last line is JSON like `l2c bench`'s.
"""
import argparse, contextlib, json, resource, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class Basic(nn.Module):
    expansion = 1

    def __init__(self, cin, width, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        out = width
        self.downsample = None
        if stride != 1 or cin != out:
            self.downsample = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        y = self.bn2(self.conv2(y))
        y += x if self.downsample is None else self.downsample(x)
        return F.relu(y, inplace=True)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, width, stride):
        super().__init__()
        out = width * 4
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.downsample = None
        if stride != 1 or cin != out:
            self.downsample = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        y = F.relu(self.bn2(self.conv2(y)), inplace=True)
        y = self.bn3(self.conv3(y))
        y += x if self.downsample is None else self.downsample(x)
        return F.relu(y, inplace=True)


def resnet(depth, small_stem, classes=1000):
    block, counts = {18: (Basic, [2, 2, 2, 2]), 34: (Basic, [3, 4, 6, 3]), 50: (Bottleneck, [3, 4, 6, 3])}[depth]
    layers = [nn.Conv2d(3, 64, 3, 1, 1, bias=False)] if small_stem else [nn.Conv2d(3, 64, 7, 2, 3, bias=False)]
    layers += [nn.BatchNorm2d(64), nn.ReLU(inplace=True)]
    if not small_stem:
        layers.append(nn.MaxPool2d(3, 2, 1))
    cin = 64
    for stage, count in enumerate(counts):
        width = 64 << stage
        for b in range(count):
            layers.append(block(cin, width, 2 if b == 0 and stage > 0 else 1))
            cin = width * block.expansion
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]
    return nn.Sequential(*layers)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="resnet18", choices=["resnet18", "resnet34", "resnet50"])
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    p.add_argument("--memory-format", default="channels_last", choices=["channels_last", "contiguous"],
                   help="channels_last (NHWC) lets oneDNN run without reordering every activation: PyTorch's faster CPU layout")
    a = p.parse_args()
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if a.precision == "bf16" else contextlib.nullcontext
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = resnet(int(a.model[6:]), a.image_size < 64)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(a.batch_size, 3, a.image_size, a.image_size)
    if a.memory_format == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        x = x.to(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (a.batch_size,))
    times = []
    for step in range(a.warmup + a.steps):
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with autocast():
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if step >= a.warmup:
            times.append(time.perf_counter() - t)
    mean = sum(times) / len(times)
    print(json.dumps({"framework": "pytorch " + torch.__version__, "model": a.model, "image_size": a.image_size,
                      "batch_size": a.batch_size, "threads": a.threads, "steps": a.steps, "precision": a.precision, "memory_format": a.memory_format,
                      "step_seconds_median": round(sorted(times)[len(times) // 2], 4),
                      "images_per_sec": round(a.batch_size / mean, 3),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))


if __name__ == "__main__":
    main()
