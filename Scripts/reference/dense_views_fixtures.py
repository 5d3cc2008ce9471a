"""Expected values of `vit-attend --map pca` and `--map norms` (issue 26, dense-feature views).

Runs the committed fixture model Tests/VAModelsTests/Fixtures/timm_registers_nonsquare
(timm vit_custom: class token + 4 registers, D 64, 3 blocks, patch 8) through timm on three
pictures cut from images/*.png (two 64x64, one non-square 48x80, sizes that are multiples of
the patch so `vit-attend --resize none` sees the same pixels), and writes
Tests/VAModelsTests/Fixtures/dense_views/:

  <name>.png                   the inputs
  expected.safetensors         per input <name>.:
      features      [T, D]     the final tokens (timm forward_features, after the final norm)
      features.1    [T, D]     block 1's output (the tokens of --layer 1)
      pca           [3, N]     PCA(n_components=3, whiten=True).fit_transform of the patch rows
                               of `features` in float64 (signs as svd_flip: the largest |entry|
                               of each component positive)
      components    [3, D], explained_variance [3], mean [D]
      pca.layer1    [3, N]     the same on `features.1`
      otsu          [1]        Otsu's threshold on pca[0] (skimage.filters.threshold_otsu,
                               nbins=256, written out in numpy: skimage is not installed)
      fg.auto       [3, N]     the two-step recipe with Otsu's threshold: patches with
                               pca[0] < otsu are 0, the rest projected by a PCA refitted on them
      fg.auto.mask  [N]        1 for foreground
      fg.0.5, fg.0.5.mask      the same with the threshold 0.5
      norms         [L, T]     the L2 norm of every token after each block (before the final norm)
      high.4, high.1.2  [L, T] 1 for the tokens whose norm is above 4 (the default
                               --norm-factor) or 1.2 times their layer's median (np.median)
  and folder.* for one PCA over all three images' patches (the folder run's shared fit):
      folder.mean [D], folder.components [3, D], folder.explained_variance [3],
      folder.<name>.pca [3, N] each image projected with it.

It also writes families.safetensors: for every timm family fixture in FAMILIES (its own
input.png at its own size; timm_basic, which has none, coffee64.png), <fixture>.features [T, D], <fixture>.pca [3, N] and
<fixture>.norms [L, T], computed as above, so the maps are checked through each layout's
forward (pre-norm, BEiT's bias, EVA-02's rotary, SwiGLU, registers, a distillation token,
a MAP head without a class token).

Versions: torch 2.15, timm 1.0.31, scikit-learn 1.9.1, numpy, safetensors, Pillow.
Run from the repository root: python3 Scripts/reference/dense_views_fixtures.py
"""

import json
import os

import numpy as np
import timm
import torch
from PIL import Image
from safetensors.numpy import save_file
from safetensors.torch import load_file
from sklearn.decomposition import PCA

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "Tests/VAModelsTests/Fixtures/timm_registers_nonsquare")
OUT = os.path.join(ROOT, "Tests/VAModelsTests/Fixtures/dense_views")
NORM_FACTORS = (4.0, 1.2)

# (name, source picture, crop box, size): real pictures, so the features have structure.
INPUTS = [
    ("coffee64", "images/coffee.png", None, (64, 64)),
    ("cat64", "images/cat.png", None, (64, 64)),
    ("astronaut48x80", "images/astronaut.png", None, (80, 48)),  # width 80, height 48
]


def load_model():
    config = json.load(open(os.path.join(MODEL, "config.json")))
    args = dict(config["model_args"])
    model = timm.models.vision_transformer.VisionTransformer(**args)
    model.load_state_dict(load_file(os.path.join(MODEL, "model.safetensors")))
    model.eval()
    return model, config["pretrained_cfg"]


def make_inputs():
    os.makedirs(OUT, exist_ok=True)
    pictures = {}
    for name, source, box, size in INPUTS:
        image = Image.open(os.path.join(ROOT, source)).convert("RGB")
        if box:
            image = image.crop(box)
        image = image.resize(size, Image.BICUBIC)
        image.save(os.path.join(OUT, name + ".png"))
        pictures[name] = np.asarray(Image.open(os.path.join(OUT, name + ".png")).convert("RGB"))
    return pictures


def run(model, cfg, pixels):
    x = torch.from_numpy(pixels.astype(np.float32) / 255.0).permute(2, 0, 1)
    mean = torch.tensor(cfg["mean"]).view(3, 1, 1)
    std = torch.tensor(cfg["std"]).view(3, 1, 1)
    x = ((x - mean) / std).unsqueeze(0)
    blocks = []
    hooks = [b.register_forward_hook(lambda m, i, o: blocks.append(o[0].detach().numpy().copy())) for b in model.blocks]
    with torch.no_grad():
        final = model.forward_features(x)[0].numpy()
    for h in hooks:
        h.remove()
    return final, blocks


def pca_fit(rows):
    pca = PCA(n_components=3, whiten=True)
    projected = pca.fit_transform(rows.astype(np.float64))
    # scikit-learn 1.9 flips signs with svd_flip(u_based_decision=False): check it did.
    for c in pca.components_:
        assert c[np.argmax(np.abs(c))] > 0
    return pca, projected


def threshold_otsu(values, nbins=256):
    """skimage.filters.threshold_otsu for a float array, in numpy."""
    values = values.ravel()
    if values.min() == values.max():
        return values.min()
    counts, edges = np.histogram(values, bins=nbins, range=(values.min(), values.max()))
    centres = (edges[:-1] + edges[1:]) / 2.0
    counts = counts.astype(np.float64)
    weight1 = np.cumsum(counts)
    weight2 = np.cumsum(counts[::-1])[::-1]
    mean1 = np.cumsum(counts * centres) / weight1
    mean2 = (np.cumsum((counts * centres)[::-1]) / weight2[::-1])[::-1]
    variance12 = weight1[:-1] * weight2[1:] * (mean1[:-1] - mean2[1:]) ** 2
    return centres[np.argmax(variance12)]


def two_step(patches, threshold):
    _, first = pca_fit(patches)
    keep = first[:, 0] >= threshold
    refit, _ = pca_fit(patches[keep])
    out = np.zeros((3, len(patches)))
    out[:, keep] = refit.transform(patches[keep].astype(np.float64))[...].T
    return out, keep


FAMILIES = ["timm_basic", "timm_clip_quickgelu", "timm_deit_distilled", "timm_siglip", "timm_beit", "timm_eva02", "timm_eva02_packed",
            "timm_eva02_clip", "timm_dinov2_swiglu",
            # issue 26's families: DINOv3, the RoPE ViTs, Perception Encoder, AIMv2, NaFlex
            "timm_dinov3", "timm_dinov3_swiglu", "timm_rope", "timm_rope_mixed", "timm_rope_reg_gap", "timm_pe_core", "timm_aimv2", "timm_naflex"]


def families():
    expected = {}
    for case in FAMILIES:
        folder = os.path.join(ROOT, "Tests/VAModelsTests/Fixtures", case)
        config = json.load(open(os.path.join(folder, "config.json")))
        architecture = config["architecture"].split(".")[0]
        if architecture == "vit_custom":  # this toolkit's name for timm's VisionTransformer(**model_args)
            model = timm.models.vision_transformer.VisionTransformer(**config["model_args"]).eval()
        else:
            model = timm.create_model(architecture, pretrained=False, **config["model_args"]).eval()
        model.load_state_dict(load_file(os.path.join(folder, "model.safetensors")))
        # timm_basic has no input of its own: the 64x64 coffee cut above fits it.
        source = os.path.join(OUT, "coffee64.png") if case == "timm_basic" else os.path.join(folder, "input.png")
        pixels = np.asarray(Image.open(source).convert("RGB"))
        final, blocks = run(model, config["pretrained_cfg"], pixels)
        prefix = model.num_prefix_tokens
        expected[f"{case}.features"] = final
        expected[f"{case}.pca"] = pca_fit(final[prefix:])[1].T
        expected[f"{case}.norms"] = np.stack([np.linalg.norm(b.astype(np.float64), axis=1) for b in blocks])
        print(case, "prefix", prefix, "tokens", final.shape)
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in expected.items()}, os.path.join(OUT, "families.safetensors"))


def main():
    model, cfg = load_model()
    pictures = make_inputs()
    prefix = model.num_prefix_tokens
    expected = {}
    all_patches = []
    for name, pixels in pictures.items():
        final, blocks = run(model, cfg, pixels)
        patches = final[prefix:]
        all_patches.append(patches)
        pca, projected = pca_fit(patches)
        expected[f"{name}.features"] = final
        expected[f"{name}.features.1"] = blocks[1]
        expected[f"{name}.pca"] = projected.T
        expected[f"{name}.components"] = pca.components_
        expected[f"{name}.explained_variance"] = pca.explained_variance_
        expected[f"{name}.mean"] = pca.mean_
        expected[f"{name}.pca.layer1"] = pca_fit(blocks[1][prefix:])[1].T
        otsu = threshold_otsu(projected[:, 0])
        expected[f"{name}.otsu"] = np.array([otsu])
        for tag, threshold in (("auto", otsu), ("0.5", 0.5)):
            values, keep = two_step(patches, threshold)
            expected[f"{name}.fg.{tag}"] = values
            expected[f"{name}.fg.{tag}.mask"] = keep.astype(np.float64)
        norms = np.stack([np.linalg.norm(b.astype(np.float64), axis=1) for b in blocks])
        expected[f"{name}.norms"] = norms
        for factor in NORM_FACTORS:
            medians = np.median(norms, axis=1, keepdims=True)
            expected[f"{name}.high.{factor:g}"] = (norms > factor * medians).astype(np.float64)
    shared = PCA(n_components=3, whiten=True).fit(np.concatenate(all_patches).astype(np.float64))
    expected["folder.mean"] = shared.mean_
    expected["folder.components"] = shared.components_
    expected["folder.explained_variance"] = shared.explained_variance_
    for name, patches in zip(pictures, all_patches):
        expected[f"folder.{name}.pca"] = shared.transform(patches.astype(np.float64)).T
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in expected.items()}, os.path.join(OUT, "expected.safetensors"))
    print("wrote", OUT, len(expected), "tensors; prefix", prefix)
    families()


if __name__ == "__main__":
    main()
