"""Checks that timm loads a conv-stem ViT this toolkit saved, and records timm's outputs.

Regenerate: python3 Scripts/reference/vit_convstem_saved_check.py   (torch 2.15, timm 1.0.31)

Reads Tests/VAModelsTests/Fixtures/toolkit_saved_convstem/{model.safetensors,config.json}
(written by VisionTransformer.save; the Swift test savedConvStemCheckpointIsStable keeps that
file identical). timm has no registered name for this model, so it is built as this
toolkit's README shows: timm's VisionTransformer with a HybridEmbed(ConvStem(...), proj=False)
patch embedding, from config.json's model_args and vision_attention.conv_stem. The weights
load with strict=False, and the only keys allowed to be missing are BatchNorm's
num_batches_tracked counters (unused in evaluation); nothing may be unexpected. It runs the
model in eval mode on the deterministic input the Swift test uses, at the trained size and at
a non-square size, and writes timm_outputs.json beside it.
"""
import json
import os
from functools import partial

import torch
from safetensors.torch import load_file
from timm.layers import HybridEmbed
from timm.models.vision_transformer import VisionTransformer
from timm.models.vision_transformer_hybrid import ConvStem


def build(config):
    stem = config["vision_attention"]["conv_stem"]
    backbone = ConvStem(depth=len(stem["channels"]), channels=tuple(stem["channels"]), kernel_size=tuple(stem["kernel_size"]),
                        stride=tuple(stem["stride"]), padding="")
    return VisionTransformer(embed_layer=partial(HybridEmbed, backbone=backbone, proj=False), **config["model_args"])


def main():
    folder = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "VAModelsTests", "Fixtures", "toolkit_saved_convstem")
    config = json.load(open(os.path.join(folder, "config.json")))
    model = build(config).eval()
    missing, unexpected = model.load_state_dict(load_file(os.path.join(folder, "model.safetensors")), strict=False)
    assert not unexpected, unexpected
    assert all(k.endswith("num_batches_tracked") for k in missing), missing
    out = {}
    for h, w in [(32, 32), (32, 48)]:
        x = torch.tensor([(i % 17) / 17 - 0.5 for i in range(3 * h * w)], dtype=torch.float32).reshape(1, 3, h, w)
        with torch.no_grad():
            out[f"{h}x{w}"] = model(x)[0].tolist()
    json.dump(out, open(os.path.join(folder, "timm_outputs.json"), "w"))
    print("timm loaded the toolkit's conv-stem checkpoint; logits", {k: [round(v, 5) for v in l] for k, l in out.items()})


if __name__ == "__main__":
    main()
