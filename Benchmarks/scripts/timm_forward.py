"""PyTorch + timm forward latency for ViT-Ti/S/B/16 at 224x224, batch 1 (or --batch): the peer of
`vit-bench vit`.

Run: python3 Benchmarks/scripts/timm_forward.py --threads 1 2 [--export DIR]
  --export DIR also saves each model's random weights as DIR/<name>/model.safetensors +
  config.json (timm layout), so `vit-bench vit --weights DIR` times the same weights.
Inference mode, fused attention as timm ships it, median of --repetitions runs after two
warm-up runs; peak RSS of the process at the end.
"""
import argparse, json, os, resource, time
import torch, timm
from safetensors.torch import save_file

parser = argparse.ArgumentParser()
parser.add_argument('--threads', type=int, nargs='+', default=[1, os.cpu_count()])
parser.add_argument('--repetitions', type=int, default=10)
parser.add_argument('--models', nargs='+', default=['vit_tiny_patch16_224', 'vit_small_patch16_224', 'vit_base_patch16_224'])
parser.add_argument('--export')
parser.add_argument('--batch', type=int, default=1, help='images per forward (vit-bench vit --batch)')
args = parser.parse_args()

x = torch.randn(args.batch, 3, 224, 224)
for name in args.models:
    model = timm.create_model(name, pretrained=False).eval()
    if args.export:
        folder = os.path.join(args.export, name)
        os.makedirs(folder, exist_ok=True)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(folder, 'model.safetensors'))
        json.dump({'architecture': name, 'num_classes': 1000, 'pretrained_cfg': {'input_size': [3, 224, 224], 'mean': [0.5] * 3, 'std': [0.5] * 3}},
                  open(os.path.join(folder, 'config.json'), 'w'))
    for threads in args.threads:
        torch.set_num_threads(threads)
        with torch.inference_mode():
            for _ in range(2):
                model(x)
            times = []
            for _ in range(args.repetitions):
                start = time.perf_counter(); model(x); times.append(time.perf_counter() - start)
        times.sort()
        batch = f' batch={args.batch}' if args.batch > 1 else ''
        print(f'{name}{batch} threads={threads}: {times[len(times) // 2] * 1000:.1f} ms')
print(f'peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB')
