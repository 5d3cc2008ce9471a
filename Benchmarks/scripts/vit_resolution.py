"""PyTorch + timm peer of `vit-bench resolution`: one ViT forward at SIZE x SIZE, batch 1.

Run: python3 Benchmarks/scripts/vit_resolution.py --size 1344 --mode fused --weights DIR/vit_small_patch16_224
  --mode fused   timm's fused attention (F.scaled_dot_product_attention), inference mode,
                 no maps: the fastest forward PyTorch offers on this CPU.
  --mode hooks   what an attention-map tool does in PyTorch: fused attention off and a
                 forward hook on each block's attn_drop (its input is the softmax) keeping
                 the class token's row [heads, T] of every layer.
--weights is a folder written by `timm_forward.py --export` (model.safetensors, timm names);
without it the weights are random (timing does not depend on them). Position embeddings are
resampled to the grid by timm (dynamic_img_size). Prints the forward's wall time (one run
after a warm-up run below 1000 pixels; one run above, where a run takes seconds) and the
process's peak RSS; the forward's CPU time (all threads) beside its wall time.
Threads: torch's default (all cores) unless --threads.
"""
import argparse, os, resource, time
import torch, timm

parser = argparse.ArgumentParser()
parser.add_argument('--size', type=int, required=True)
parser.add_argument('--mode', choices=['fused', 'hooks'], default='fused')
parser.add_argument('--weights')
parser.add_argument('--model', default='vit_small_patch16_224')
parser.add_argument('--threads', type=int)
args = parser.parse_args()
if args.threads:
    torch.set_num_threads(args.threads)

model = timm.create_model(args.model, pretrained=False, dynamic_img_size=True).eval()
if args.weights:
    from safetensors.torch import load_file
    model.load_state_dict(load_file(os.path.join(args.weights, 'model.safetensors')))

rows = []
if args.mode == 'hooks':
    for block in model.blocks:
        block.attn.fused_attn = False
        block.attn.attn_drop.register_forward_hook(lambda module, inputs, output: rows.append(inputs[0][0, :, 0, :].clone()))

torch.manual_seed(0)
x = torch.randn(1, 3, args.size, args.size)
with torch.inference_mode():
    if args.size < 1000:
        model(x)
        rows.clear()
    start, cpu = time.perf_counter(), time.process_time()
    model(x)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
print(f'{args.model} {args.mode} {args.size}x{args.size} tokens={(args.size // 16) ** 2 + 1} threads={torch.get_num_threads()}: '
      f'forward {seconds:.3f} s ({cpu:.3f} s CPU), class-token rows kept {len(rows)}, peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB')
