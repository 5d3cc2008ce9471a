"""Checks that timm loads checkpoints this toolkit saved, and records timm's logits for them.

Regenerate: python3 Scripts/reference/vit_toolkit_saved_check.py   (torch 2.15, timm 1.0.31)

Reads Tests/VAModelsTests/Fixtures/{toolkit_saved,toolkit_saved_map}/{model.safetensors,config.json}
(written by VisionTransformer.save; the Swift test savedCheckpointIsStable keeps them identical;
toolkit_saved_map has timm's attention-pooling head, global_pool='map'),
builds timm's VisionTransformer from config.json's model_args, loads the weights with
strict=True (every name and shape must match), runs it on the deterministic input the Swift
test uses, and writes timm_logits.json beside it.
"""
import json, os
import torch, timm
from safetensors.torch import load_file

for name in ['toolkit_saved', 'toolkit_saved_map']:
    folder = os.path.join(os.path.dirname(__file__), '..', '..', 'Tests', 'VAModelsTests', 'Fixtures', name)
    config = json.load(open(os.path.join(folder, 'config.json')))
    args = dict(config['model_args'])
    model = timm.models.vision_transformer.VisionTransformer(**args).eval()
    model.load_state_dict(load_file(os.path.join(folder, 'model.safetensors')), strict=True)
    x = torch.tensor([(i % 17) / 17 - 0.5 for i in range(3 * 32 * 32)], dtype=torch.float32).reshape(1, 3, 32, 32)
    with torch.no_grad():
        logits = model(x)[0].tolist()
    json.dump(logits, open(os.path.join(folder, 'timm_logits.json'), 'w'))
    print(name, 'loaded in timm strictly; logits', [round(v, 5) for v in logits])
