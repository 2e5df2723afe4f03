"""PyTorch DistributedDataParallel (gloo, CPU) training steps: the peer of `l2c bench` on several ranks.

Launched by mpirun, one process per rank (rank and size from Open MPI's environment), e.g. over the fake hosts:
    mpirun --hostfile HOSTS -np 2 --map-by node /tmp/torchenv/venv/bin/python benchmarks/pytorch_ddp.py \
        --master-addr 10.77.0.1 --model resnet18 --image-size 112 --batch-size 64 --threads 1 --steps 8

One step = forward, cross-entropy, backward (DDP all-reduces gradient buckets of --bucket-mb while backward
runs), SGD with momentum, as `l2c bench`; --batch-size is the global batch. BatchNorm statistics are per rank
(--sync-bn tries torch's SyncBatchNorm, which needs a GPU on most builds). Rank 0 prints one JSON line.
"""
import argparse, json, os, sys, time
import torch
import torch.distributed as dist
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_bench import resnet


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="resnet18", choices=["resnet18", "resnet34", "resnet50"])
    p.add_argument("--image-size", type=int, default=112)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--bucket-mb", type=float, default=25)
    p.add_argument("--master-addr", default="127.0.0.1")
    p.add_argument("--master-port", default="29517")
    p.add_argument("--sync-bn", action="store_true")
    a = p.parse_args()
    rank, size = int(os.environ.get("OMPI_COMM_WORLD_RANK", 0)), int(os.environ.get("OMPI_COMM_WORLD_SIZE", 1))
    dist.init_process_group("gloo", init_method=f"tcp://{a.master_addr}:{a.master_port}", rank=rank, world_size=size)
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = resnet(int(a.model[6:]), a.image_size < 64)
    if a.sync_bn:
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model = torch.nn.parallel.DistributedDataParallel(model, bucket_cap_mb=a.bucket_mb) if size > 1 else model
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    local = a.batch_size // size
    x = torch.randn(local, 3, a.image_size, a.image_size)
    y = torch.randint(0, 1000, (local,))
    times = []
    for step in range(a.warmup + a.steps):
        dist.barrier()
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
        dist.barrier()
        if step >= a.warmup:
            times.append(time.perf_counter() - t)
    mean = sum(times) / len(times)
    if rank == 0:
        print(json.dumps({"framework": "pytorch ddp gloo " + torch.__version__, "model": a.model, "image_size": a.image_size,
                          "batch_size": a.batch_size, "ranks": size, "threads": a.threads, "bucket_mb": a.bucket_mb,
                          "sync_bn": a.sync_bn, "step_seconds_median": round(sorted(times)[len(times) // 2], 4),
                          "images_per_sec": round(a.batch_size / mean, 3)}))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
