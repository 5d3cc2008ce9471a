"""Writes the attribution and faithfulness fixtures into Tests/VitAttendCLITests/Fixtures/attribution/.

Regenerate: python3 Scripts/reference/attribution_fixtures.py   (torch 2.15, timm 1.0.31, numpy)

The models are the committed timm fixtures of Tests/VAModelsTests/Fixtures (written by
vit_fixtures.py): timm_basic (class token, token pool, 4x4 grid) and timm_registers_nonsquare
(class token + 4 registers, average pool with fc_norm, 6x10 grid), fed the same normalised
input as their reference.safetensors. For two classes each (the top-1 and one that is not),
PyTorch autograd gives, with y = logits[K] (pre-softmax, as Chefer et al.'s code and
pytorch-grad-cam's ClassifierOutputTarget use):

  gradrollout.{i}  [T, T]       Chefer et al. 2021 (ICCV), self-attention rule: R = I; per layer
                                R <- R + mean_heads(relu(dy/dA * A)) @ R, A post-softmax attention
  attngrad.{i}     [L, T, T]    per layer, mean_heads(relu(dy/dA * A)) (one term of the rule above)
  gradcam.{i}      [rows, cols] pytorch-grad-cam 1.5.7's GradCAM with target_layers =
                                [blocks[-1].norm1] and a reshape_transform dropping the prefix
                                tokens: weights = np.mean(grads, axis=(2, 3)) (GradCAM.get_cam_weights),
                                cam = (weights[:, :, None, None] * activations).sum(axis=1)
                                (BaseCAM.get_cam_image), np.maximum(cam, 0) (compute_cam_per_layer),
                                before scale_cam_image's normalisation and resize
  class.{i}        [1]          K, as a float
  logits           [classes]
(pytorch-grad-cam itself needs OpenCV and scikit-learn to import, so its three lines are
written out here rather than called.)

hf_backbone_embedding.safetensors: hf_backbone (Hugging Face ViTModel, no head) with
y = cosine similarity between the pooled embedding (class token after the final layernorm) and
a fixed random target (also in target_embedding.safetensors, one tensor `text` [48]):
  input, target, embedding [48], score [1], gradrollout, attngrad, gradcam as above (Grad-CAM on
  layers[-1].layernorm_before, Hugging Face's name for blocks[-1].norm1).

faithfulness.safetensors: deletion and insertion curves (Petsiuk et al. 2018, RISE) on
timm_basic for a fixed map of distinct values, in numpy around the torch model:
  input [3, H, W], map [N], class [1], blurred [3, H, W], deletion [P], insertion [P],
  auc [2] (deletion, insertion)
Patches are taken in the map's order (descending, stable), one patch row's worth (grid width)
per step, P = ceil(N / width) + 1 points; deletion sets removed patches to 0 (the normalised
mean), insertion copies them from the input into the blurred copy (separable Gaussian, 11 taps,
sigma 5, zero padding, in normalised space, as RISE's blur substrate); the curve is the target
class's softmax probability; AUC is the trapezoid rule on [0, 1].
"""
import json, os
import numpy as np
import torch
import timm
import timm.layers
from safetensors.torch import load_file, save_file

timm.layers.set_fused_attn(False)
here = os.path.dirname(__file__)
models = os.path.join(here, '..', '..', 'Tests', 'VAModelsTests', 'Fixtures')
out = os.path.join(here, '..', '..', 'Tests', 'VitAttendCLITests', 'Fixtures', 'attribution')
os.makedirs(out, exist_ok=True)


def load(name):
    folder = os.path.join(models, name)
    args = json.load(open(os.path.join(folder, 'config.json')))['model_args']
    args = {k: (tuple(v) if isinstance(v, list) else v) for k, v in args.items()}
    model = timm.models.vision_transformer.VisionTransformer(**args).eval()
    model.load_state_dict(load_file(os.path.join(folder, 'model.safetensors')))
    x = load_file(os.path.join(folder, 'reference.safetensors'))['input']
    return model, x


def attribution(model, x, k):
    """Chefer's rule, its per-layer terms and Grad-CAM for target logit k."""
    attns, acts = [], []

    def keep(into):
        def hook(module, inputs, output):  # returns None, so the output is left as it is
            output.retain_grad()
            into.append(output)
        return hook
    hooks = [b.attn.attn_drop.register_forward_hook(keep(attns)) for b in model.blocks]
    hooks.append(model.blocks[-1].norm1.register_forward_hook(keep(acts)))
    logits = model(x[None])
    logits[0, k].backward()
    for h in hooks:
        h.remove()
    t = attns[0].shape[-1]
    r = torch.eye(t, dtype=torch.float64)
    terms = []
    for a in attns:
        cam = (a.grad[0] * a[0]).clamp(min=0).mean(0).double()
        terms.append(cam.float())
        r = r + cam @ r
    prefix = model.num_prefix_tokens
    gh, gw = model.patch_embed.dynamic_feat_size(x.shape[1:]) if model.dynamic_img_size else model.patch_embed.grid_size
    # reshape_transform: drop the prefix tokens, [1, N, C] -> [1, C, rows, cols].
    def reshape(tensor):
        return tensor[:, prefix:, :].reshape(1, gh, gw, -1).permute(0, 3, 1, 2)
    activations = reshape(acts[0]).detach().numpy().astype(np.float64)
    grads = reshape(acts[0].grad).numpy().astype(np.float64)
    weights = np.mean(grads, axis=(2, 3))
    cam = (weights[:, :, None, None] * activations).sum(axis=1)
    cam = np.maximum(cam, 0)[0]
    return logits[0].detach(), r.float(), torch.stack(terms), torch.from_numpy(cam).float()


def attribution_case(name):
    model, x = load(name)
    with torch.no_grad():
        logits = model(x[None])[0]
    top = int(logits.argmax())
    other = int(logits.argsort()[len(logits) // 2])  # a middling class, not the top-1
    assert other != top
    tensors = {'input': x.contiguous(), 'logits': logits.contiguous()}
    for i, k in enumerate((top, other)):
        _, rollout, terms, cam = attribution(model, x, k)
        tensors.update({f'class.{i}': torch.tensor([float(k)]), f'gradrollout.{i}': rollout.contiguous(),
                        f'attngrad.{i}': terms.contiguous(), f'gradcam.{i}': cam.contiguous()})
        print(f'{name}: class {k}: gradrollout max {rollout.max():.4f}, gradcam max {cam.max():.6f}')
    save_file(tensors, os.path.join(out, f'{name}.safetensors'))


def blur(x, taps=11, sigma=5.0):
    """Separable Gaussian blur with zero padding, per channel. x: [3, H, W] float64."""
    offsets = np.arange(taps) - taps // 2
    g = np.exp(-offsets ** 2 / (2 * sigma ** 2))
    g /= g.sum()
    pad = taps // 2
    c, h, w = x.shape
    padded = np.zeros((c, h + 2 * pad, w + 2 * pad))
    padded[:, pad:pad + h, pad:pad + w] = x
    rows = sum(g[i] * padded[:, :, i:i + w] for i in range(taps))            # [c, h + 2pad, w]
    return sum(g[i] * rows[:, i:i + h, :] for i in range(taps))              # [c, h, w]


def curves(model, x, saliency, k, patch):
    c, h, w = x.shape
    gw, gh = w // patch, h // patch
    n = gw * gh
    order = np.argsort(-saliency, kind='stable')
    step = gw
    points = -(-n // step) + 1
    original = x.astype(np.float64)
    blurred = blur(original)

    def masked(base, source, count):
        img = base.copy()
        for index in order[:count]:
            r, col = divmod(int(index), gw)
            img[:, r * patch:(r + 1) * patch, col * patch:(col + 1) * patch] = source[:, r * patch:(r + 1) * patch, col * patch:(col + 1) * patch]
        return img

    zeros = np.zeros_like(original)
    deletion_images = [masked(original, zeros, min(i * step, n)) for i in range(points)]
    insertion_images = [masked(blurred, original, min(i * step, n)) for i in range(points)]
    batch = torch.from_numpy(np.stack(deletion_images + insertion_images)).float()
    with torch.no_grad():
        probs = torch.softmax(model(batch).double(), dim=-1)[:, k].numpy()
    deletion, insertion = probs[:points], probs[points:]

    def auc(curve):
        return (curve.sum() - curve[0] / 2 - curve[-1] / 2) / (len(curve) - 1)
    return blurred, deletion, insertion, np.array([auc(deletion), auc(insertion)])


def faithfulness_case():
    model, x = load('timm_basic')
    rng = np.random.default_rng(3)
    n = 16
    saliency = rng.permutation(n).astype(np.float64) / n + 0.01 * rng.random(n)
    with torch.no_grad():
        k = int(model(x[None])[0].argmax())
    blurred, deletion, insertion, aucs = curves(model, x.numpy(), saliency, k, 16)
    save_file({'input': x.contiguous(), 'map': torch.from_numpy(saliency).float(), 'class': torch.tensor([float(k)]),
               'blurred': torch.from_numpy(blurred).float(), 'deletion': torch.from_numpy(deletion).float(),
               'insertion': torch.from_numpy(insertion).float(), 'auc': torch.from_numpy(aucs).float()},
              os.path.join(out, 'faithfulness.safetensors'))
    print(f'faithfulness: class {k}, deletion AUC {aucs[0]:.4f}, insertion AUC {aucs[1]:.4f}')


def embedding_case():
    """hf_backbone (no head): y = cosine(pooled embedding, a fixed random target)."""
    from transformers import ViTModel
    folder = os.path.join(models, 'hf_backbone')
    model = ViTModel.from_pretrained(folder, attn_implementation='eager', add_pooling_layer=False).eval()
    x = load_file(os.path.join(folder, 'reference.safetensors'))['input']
    target = torch.randn(model.config.hidden_size, generator=torch.Generator().manual_seed(4))
    acts = []

    def hook(module, inputs, output):
        output.retain_grad()
        acts.append(output)
    handle = model.layers[-1].layernorm_before.register_forward_hook(hook)
    result = model(pixel_values=x[None], output_attentions=True, interpolate_pos_encoding=True)
    handle.remove()
    for a in result.attentions:
        a.retain_grad()
    pooled = result.last_hidden_state[0, 0]  # the class token after the final layernorm
    y = torch.nn.functional.cosine_similarity(pooled, target, dim=0)
    y.backward()
    t = result.attentions[0].shape[-1]
    r = torch.eye(t, dtype=torch.float64)
    terms = []
    for a in result.attentions:
        cam = (a.grad[0] * a[0]).clamp(min=0).mean(0).double()
        terms.append(cam.float())
        r = r + cam @ r
    gh, gw = x.shape[1] // 16, x.shape[2] // 16
    activations = acts[0][:, 1:, :].reshape(1, gh, gw, -1).permute(0, 3, 1, 2).detach().numpy().astype(np.float64)
    grads = acts[0].grad[:, 1:, :].reshape(1, gh, gw, -1).permute(0, 3, 1, 2).numpy().astype(np.float64)
    cam = np.maximum((np.mean(grads, axis=(2, 3))[:, :, None, None] * activations).sum(axis=1), 0)[0]
    save_file({'input': x.contiguous(), 'target': target.contiguous(), 'embedding': pooled.detach().contiguous(),
               'score': y.detach().reshape(1), 'gradrollout': r.float().contiguous(), 'attngrad': torch.stack(terms).contiguous(),
               'gradcam': torch.from_numpy(cam).float().contiguous()}, os.path.join(out, 'hf_backbone_embedding.safetensors'))
    save_file({'text': target.contiguous()}, os.path.join(out, 'target_embedding.safetensors'))
    print(f'hf_backbone: cosine {y.item():.4f}, gradcam max {cam.max():.6f}')


if __name__ == '__main__':  # Benchmarks/scripts/faithfulness_torch.py imports the functions above
    attribution_case('timm_basic')
    attribution_case('timm_registers_nonsquare')
    faithfulness_case()
    embedding_case()
    print('ok')
