"""The Python peer of `vit-attend IMAGE -w MODEL --faithfulness r.json` (issue 19): the same
five maps (cls, rollout, gradrollout, gradcam, random) and their deletion and insertion curves
in PyTorch + timm, as a researcher scripts it today with the committed reference functions
(Scripts/reference/attribution_fixtures.py: Chefer's rule and Grad-CAM by autograd hooks,
RISE-style curves, each map's 2 x (N / width + 1) perturbed images in one batch).

Usage: python3 Benchmarks/scripts/faithfulness_torch.py MODEL_FOLDER IMAGE.png [--threads N]
MODEL_FOLDER holds model.safetensors and a timm config.json with model_args (a class-token
ViT with a head, e.g. vit_small_patch16_224 saved with safetensors' save_file). The image is
resized to the model's input size (bicubic, Pillow) and normalised with the config's mean/std.
Prints the wall time of the whole computation (model load and image decode excluded) and the
AUC table, so the two tools' results can be compared too.
"""
import argparse, json, os, sys, time
import numpy as np
import torch
import timm
from PIL import Image
from safetensors.torch import load_file

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'reference'))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('model')
    parser.add_argument('image')
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from attribution_fixtures import attribution, curves

    config = json.load(open(os.path.join(args.model, 'config.json')))
    model_args = {k: (tuple(v) if isinstance(v, list) else v) for k, v in config['model_args'].items()}
    model = timm.models.vision_transformer.VisionTransformer(**model_args).eval()
    model.load_state_dict(load_file(os.path.join(args.model, 'model.safetensors')))
    size = config['pretrained_cfg']['input_size'][1:]
    mean, std = np.array(config['pretrained_cfg']['mean']), np.array(config['pretrained_cfg']['std'])
    pixels = np.asarray(Image.open(args.image).convert('RGB').resize((size[1], size[0]), Image.BICUBIC), dtype=np.float64) / 255
    x = torch.from_numpy(((pixels - mean) / std).transpose(2, 0, 1).copy()).float()
    patch = model.patch_embed.patch_size[0]
    gh, gw = size[0] // patch, size[1] // patch

    started = time.perf_counter()
    attentions = []
    hooks = [b.attn.attn_drop.register_forward_hook(lambda m, i, o: attentions.append(o.detach())) for b in model.blocks]
    with torch.no_grad():
        k = int(model(x[None])[0].argmax())
    for h in hooks:
        h.remove()
    prefix = model.num_prefix_tokens
    cls = attentions[-1][0].mean(0)[0, prefix:].numpy()
    t = attentions[0].shape[-1]
    r = torch.eye(t, dtype=torch.float64)
    for a in attentions:
        a = a[0].mean(0).double()
        a = 0.5 * a + 0.5 * torch.eye(t, dtype=torch.float64)
        r = (a / a.sum(-1, keepdim=True)) @ r
    rollout = r[0, prefix:].numpy()
    _, grad_rollout, _, cam = attribution(model, x, k)
    maps = {'cls': cls, 'rollout': rollout, 'gradrollout': grad_rollout[0, prefix:].detach().numpy(),
            'gradcam': cam.numpy().reshape(-1), 'random': np.random.default_rng(0).permutation(gh * gw).astype(np.float64)}
    aucs = {name: curves(model, x.numpy(), saliency, k, patch)[3] for name, saliency in maps.items()}
    elapsed = time.perf_counter() - started
    print(f'torch {torch.__version__}, timm {timm.__version__}, {args.threads} threads, class {k}: {elapsed:.2f} s')
    for name, (deletion, insertion) in aucs.items():
        print(f'{name:12s} {deletion:12.4f}  {insertion:13.4f}')


if __name__ == '__main__':
    main()
