"""What a checkpoint pauses a PyTorch data-parallel run for, beside `l2c train --checkpoint-every`.

The usual DDP script saves on rank 0 with `torch.save({"model": ..., "optimizer": ...})` between steps; the
other ranks wait for it at their next all-reduce, so the pause they see is the whole save (serialise, write,
fsync). This measures that save for the same ResNets (pytorch_bench.py's definitions) with Adam state after
one step, and prints one JSON line per repetition.

    /tmp/torchenv/venv/bin/python benchmarks/pytorch_checkpoint.py --model resnet18 --image-size 28 --classes 10
"""
import argparse, json, os, tempfile, time
import torch
import torch.nn.functional as F

from pytorch_bench import resnet


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="resnet18", choices=["resnet18", "resnet34", "resnet50"])
    p.add_argument("--image-size", type=int, default=28)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    depth = int(args.model[len("resnet"):])
    model = resnet(depth, args.image_size < 64, classes=args.classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    # Three input channels (L2C's MNIST runs have one: 1,152 fewer stem weights, under 0.01% of the state).
    x = torch.randn(4, 3, args.image_size, args.image_size)
    loss = F.cross_entropy(model(x), torch.randint(0, args.classes, (4,)))
    loss.backward()
    optimizer.step()
    folder = tempfile.mkdtemp()
    for r in range(args.repeats):
        path = os.path.join(folder, f"state-{r}.pt")
        start = time.perf_counter()
        with open(path, "wb") as f:
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": r}, f)
            f.flush()
            os.fsync(f.fileno())
        seconds = time.perf_counter() - start
        print(json.dumps({"model": args.model, "bytes": os.path.getsize(path), "save_seconds": round(seconds, 4)}))
        os.remove(path)


if __name__ == "__main__":
    main()
