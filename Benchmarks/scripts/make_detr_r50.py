"""Builds a DETR-R50 checkpoint folder with the real architecture and random weights, for timing
vit-attend against transformers (facebook/detr-resnet-50 cannot be downloaded here).

DetrConfig's defaults are DETR-R50's: timm resnet50 backbone, d_model 256, 6 encoder and 6 decoder
layers, 8 heads, FFN 2048, 100 queries; use_pretrained_backbone False (random weights), 91 COCO
label slots (LABEL_i), as facebook/detr-resnet-50's head. Written with save_pretrained (the
hub's key layout) and DetrImageProcessor's defaults (shortest edge 800, longest 1333).

Run: python3 Benchmarks/scripts/make_detr_r50.py OUT_FOLDER [--hf-backbone]
     (torch 2.15, timm 1.0.31, transformers 5.25.0)
"""
import sys
import torch
from transformers import DetrConfig, DetrForObjectDetection, DetrImageProcessor, ResNetConfig

out = sys.argv[1]
torch.manual_seed(0)
labels = {i: f'LABEL_{i}' for i in range(91)}
if '--hf-backbone' in sys.argv:
    backbone = ResNetConfig(layer_type='bottleneck', depths=[3, 4, 6, 3], out_features=['stage1', 'stage2', 'stage3', 'stage4'])
    config = DetrConfig(use_timm_backbone=False, backbone_config=backbone, use_pretrained_backbone=False, id2label=labels)
else:
    config = DetrConfig(use_timm_backbone=True, backbone='resnet50', use_pretrained_backbone=False, id2label=labels)
model = DetrForObjectDetection(config).eval()
model.save_pretrained(out)
DetrImageProcessor().save_pretrained(out)
print(out, sum(p.numel() for p in model.parameters()) / 1e6, 'M parameters')
