"""The PyTorch twin of Cleave's U-Net (same architecture, same parameter names and layouts).

Usage: python torch_unet.py [--threads 2] [--steps 5] [--inference-size 1024]
Prints one JSON line with per-step wall/CPU times (median) for a training step on 8x3x128x128
(forward + cross-entropy + backward + AdamW) and for inference on 1x3xSxS.
"""
import argparse, json, time, os
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, norm):
        super().__init__()
        bias = norm == "none"
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=bias)
        self.norm1 = nn.BatchNorm2d(cout) if norm == "batch" else nn.Identity()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=bias)
        self.norm2 = nn.BatchNorm2d(cout) if norm == "batch" else nn.Identity()

    def forward(self, x):
        x = F.relu(self.norm1(self.conv1(x)))
        return F.relu(self.norm2(self.conv2(x)))


class Up(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False))


class UNet(nn.Module):
    def __init__(self, cin=3, classes=4, depth=4, width=16, norm="batch"):
        super().__init__()
        widths = [width * 2 ** l for l in range(depth)]
        self.enc = nn.ModuleList([Block(cin if l == 0 else widths[l - 1], widths[l], norm) for l in range(depth)])
        self.up = nn.ModuleList([Up(widths[l + 1], widths[l]) for l in range(depth - 1)])
        self.dec = nn.ModuleList([Block(2 * widths[l], widths[l], norm) for l in range(depth - 1)])
        self.head = nn.Conv2d(width, classes, 1)

    def forward(self, x):
        skips = []
        for l, block in enumerate(self.enc):
            x = block(x)
            if l < len(self.enc) - 1:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for l in reversed(range(len(self.dec))):
            x = self.dec[l](torch.cat([skips[l], self.up[l](x)], 1))
        return self.head(x)


def timed(fn, repeats):
    walls, cpus = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    walls.sort(); cpus.sort()
    return walls[len(walls) // 2], cpus[len(cpus) // 2], walls[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--inference-size", type=int, default=1024)
    ap.add_argument("--inference-repeats", type=int, default=3)
    ap.add_argument("--count-only", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = UNet()
    if args.count_only:
        print(sum(p.numel() for p in model.parameters()))
        return
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(8, 3, 128, 128)
    y = torch.randint(0, 4, (8, 128, 128))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y, ignore_index=-1)
        loss.backward()
        opt.step()

    model.train()
    step()  # warm-up
    train_wall, train_cpu, train_best = timed(step, args.steps)
    model.eval()
    big = torch.randn(1, 3, args.inference_size, args.inference_size)

    def infer():
        with torch.no_grad():
            model(big)

    infer()
    inf_wall, inf_cpu, inf_best = timed(infer, args.inference_repeats)
    print(json.dumps({"threads": args.threads, "train_step_wall": train_wall, "train_step_cpu": train_cpu,
                      "train_step_best": train_best, "inference_wall": inf_wall, "inference_cpu": inf_cpu,
                      "inference_best": inf_best, "inference_size": args.inference_size}))


if __name__ == "__main__":
    main()
