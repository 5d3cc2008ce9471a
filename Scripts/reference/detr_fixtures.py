"""Writes the DETR fixtures into Tests/VAModelsTests/Fixtures/detr_<case>/: a checkpoint folder
(model.safetensors, config.json, preprocessor_config.json) and reference.safetensors, the outputs
of transformers' DetrForObjectDetection (eval, eager attention, output_attentions=True) on one
96x160 input (non-square; a single image, so DetrImageProcessor's pixel_mask is all ones).

Regenerate: python3 Scripts/reference/detr_fixtures.py   (torch 2.15, timm 1.0.31, transformers 5.25.0)

Cases (one per backbone and key layout; weights random, no hub access)
  detr_timm_v4   timm ResNet backbone (`use_timm_backbone: true`, `backbone: "resnet50"`), keys as
                 transformers writes them with save_pretrained and as the hub ships
                 facebook/detr-resnet-50 (`model.backbone.conv_encoder.model.*`, `out_proj`,
                 `layers.{i}.fc1`), config in transformers 4's form, F16 weights
  detr_timm_v5   the same model under transformers 5's names (`model.backbone.model.*`, `o_proj`,
                 `mlp.fc1`, the in-memory state_dict) and the config 5.25 writes (`backbone_config`
                 of model_type timm_backbone), F32 weights
  detr_hf_v4     transformers' own ResNet backbone (`use_timm_backbone: false`, `backbone_config`
                 of model_type resnet: `embedder.embedder.convolution`,
                 `encoder.stages.{i}.layers.{j}.shortcut/layer.{k}`), save_pretrained names, F16
  detr_hf_v5     the same under transformers 5's names, F32
The timm backbone keeps resnet50's layout (Bottleneck blocks, 7x7 stem, 1x1 downsample) but is
shrunk through timm's own arguments (layers [1, 2, 1, 1], channels (8, 16, 32, 64), stem width 8)
so the fixture stays small; the config still says "resnet50", as the loader infers depths and
widths from the tensors. The HF backbone is a small ResNetConfig (bottleneck, depths [1, 2, 1, 1]).
DETR itself: d_model 32, 2 encoder and 2 decoder layers, 2 heads, FFN 64, 10 queries, 5 labels.
F16 cases run the reference with the weights rounded to F16, so the file is the model.

reference.safetensors holds input [3, H, W], encoder.{l} [heads, S, S], decoder_self.{l}
[heads, Q, Q], decoder_cross.{l} [heads, Q, S], logits [Q, C+1], pred_boxes [Q, 4],
position [S, d_model] (the sine encoding), features [C_backbone, h, w] (the backbone's last map),
and post_process_object_detection's scores [Q], labels [Q] and boxes [Q, 4] (threshold 0, a
480x800 target size).

Beside them, for vit-attend's end-to-end test (Tests/VitAttendCLITests/DETRFigureTests), each
folder also holds cli_image.png (a uint8 RGB file, non-square, landscape for the timm cases and
portrait for the HF ones), cli_preprocessor_config.json (DetrImageProcessor with shortest_edge 96,
longest_edge 160, so the input stays small; the test copies it in as preprocessor_config.json) and
cli_reference.safetensors: the same model run on what transformers' own processor makes of the
file, `AutoImageProcessor.from_pretrained` of that config (in transformers 5.25 the torchvision
DetrImageProcessor: uint8 bilinear resize with antialias, fused rescale and normalise) and its
single-image pixel_mask. It holds input [3, H, W], logits, boxes, encoder.{l}, decoder_self.{l},
decoder_cross.{l} as above, and post_process_object_detection at threshold 0 with the file's own
size as target: post_scores [Q], post_labels [Q], post_boxes [Q, 4] (x_min, y_min, x_max, y_max in
file pixels), in query order.
"""
import json, math, os, shutil
import torch
import timm
from torch import nn
from safetensors.torch import save_file
from PIL import Image
from transformers import AutoImageProcessor, DetrConfig, DetrForObjectDetection, DetrImageProcessor, ResNetConfig
from transformers.models.detr.modeling_detr import replace_batch_norm

root = os.path.join(os.path.dirname(__file__), '..', '..', 'Tests', 'VAModelsTests', 'Fixtures')
H, W = 96, 160
LABELS = {0: 'cat', 1: 'dog', 2: 'remote', 3: 'couch', 4: 'N/A'}
COMMON = dict(d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2, decoder_attention_heads=2,
              encoder_ffn_dim=64, decoder_ffn_dim=64, num_queries=10, id2label=LABELS,
              label2id={v: k for k, v in LABELS.items()}, use_pretrained_backbone=False)


def randomise(model, seed):
    """Frozen BN statistics away from 0/1 and peaky attention, so every term matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, b in model.named_buffers():
            if name.endswith('running_mean'):
                b.copy_(0.1 * torch.randn(b.shape, generator=g))
            elif name.endswith('running_var'):
                b.copy_(0.5 + torch.rand(b.shape, generator=g))
            elif 'backbone' in name and name.endswith('.weight'):
                b.copy_(1 + 0.2 * torch.randn(b.shape, generator=g))
            elif 'backbone' in name and name.endswith('.bias'):
                b.copy_(0.1 * torch.randn(b.shape, generator=g))
        for name, p in model.named_parameters():
            if 'backbone' in name:
                continue
            if ('q_proj' in name or 'k_proj' in name) and name.endswith('weight'):
                p.mul_(12.0)
            if 'layer_norm' in name or 'layernorm' in name:
                p.add_(0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith('bias'):
                p.add_(0.05 * torch.randn(p.shape, generator=g))
            if name.startswith(('bbox_predictor', 'class_labels_classifier')) and name.endswith('weight'):
                # transformers initialises the heads with std 0.02: boxes would all sit at 0.5.
                p.copy_(0.4 * torch.randn(p.shape, generator=g))
            if 'query_position_embeddings' in name:
                p.copy_(torch.randn(p.shape, generator=g))


def build(kind):
    torch.manual_seed(0 if kind == 'timm' else 1)
    if kind == 'timm':
        config = DetrConfig(use_timm_backbone=True, backbone='resnet50', **COMMON)
        model = DetrForObjectDetection(config)
        # resnet50's layout, shrunk through timm's own ResNet arguments.
        small = timm.create_model('resnet50', pretrained=False, features_only=True, out_indices=(1, 2, 3, 4),
                                  layers=[1, 2, 1, 1], channels=(8, 16, 32, 64), stem_width=8)
        replace_batch_norm(small)
        model.model.backbone.model = small
        model.model.input_projection = nn.Conv2d(small.feature_info.channels()[-1], COMMON['d_model'], 1)
    else:
        backbone = ResNetConfig(embedding_size=8, hidden_sizes=[16, 24, 32, 48], depths=[1, 2, 1, 1],
                                layer_type='bottleneck', out_features=['stage1', 'stage2', 'stage3', 'stage4'])
        config = DetrConfig(use_timm_backbone=False, backbone_config=backbone, **COMMON)
        model = DetrForObjectDetection(config)
    model.config._attn_implementation = 'eager'
    randomise(model, 2 if kind == 'timm' else 3)
    return model.eval()


def image():
    ys, xs = torch.meshgrid(torch.linspace(0, 1, H), torch.linspace(0, 1, W), indexing='ij')
    rgb = torch.stack([torch.sin(6 * xs + 2 * ys), torch.cos(5 * ys - 3 * xs), xs * ys]) * 0.4 + 0.5
    mean = torch.tensor([0.485, 0.456, 0.406])[:, None, None]
    std = torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    return (rgb - mean) / std


def write(case, kind, layout, dtype):
    model = build(kind)
    folder = os.path.join(root, case)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    if dtype == torch.float16:
        model = model.half().float()  # the reference runs the weights the file stores
    # transformers 5 renames on load and back on save: save_pretrained writes transformers 4's
    # names (the hub's), state_dict() holds 5's.
    tmp = folder + '_tmp'
    model.save_pretrained(tmp)
    config = json.load(open(os.path.join(tmp, 'config.json')))
    if layout == 'v4':
        from safetensors.torch import load_file
        weights = load_file(os.path.join(tmp, 'model.safetensors'))
    else:
        weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    shutil.rmtree(tmp)
    weights = {k: v.to(dtype).contiguous() for k, v in weights.items()}
    save_file(weights, os.path.join(folder, 'model.safetensors'))
    if layout == 'v4':
        config['transformers_version'] = '4.32.0.dev0'
        if kind == 'timm':
            # facebook/detr-resnet-50's config.json names the timm model, with no backbone_config.
            config.pop('backbone_config', None)
            config.update(use_timm_backbone=True, backbone='resnet50', use_pretrained_backbone=True, dilation=False)
        else:
            config.update(use_timm_backbone=False, backbone=None)
    json.dump(config, open(os.path.join(folder, 'config.json'), 'w'), indent=2, sort_keys=True)
    DetrImageProcessor().save_pretrained(folder)

    x = image()
    with torch.no_grad():
        out = model(pixel_values=x[None], pixel_mask=torch.ones(1, H, W, dtype=torch.long), output_attentions=True)
        features = model.model.backbone(x[None], torch.ones(1, H, W, dtype=torch.long))[-1]
        fmap, mask = features
        pos = model.model.position_embedding(shape=fmap.shape, device='cpu', dtype=torch.float32, mask=mask)
    ref = {'input': x, 'logits': out.logits[0], 'pred_boxes': out.pred_boxes[0],
           'position': pos[0].flatten(1).T, 'features': fmap[0]}
    for l, a in enumerate(out.encoder_attentions):
        ref[f'encoder.{l}'] = a[0]
    for l, a in enumerate(out.decoder_attentions):
        ref[f'decoder_self.{l}'] = a[0]
    for l, a in enumerate(out.cross_attentions):
        ref[f'decoder_cross.{l}'] = a[0]
    # The processor's post-processing at threshold 0, boxes in the pixels of a 480x800 original.
    post = DetrImageProcessor().post_process_object_detection(out, threshold=0.0, target_sizes=[(480, 800)])[0]
    ref.update(post_scores=post['scores'], post_labels=post['labels'].float(), post_boxes=post['boxes'])
    save_file({k: v.float().contiguous() for k, v in ref.items()}, os.path.join(folder, 'reference.safetensors'))
    print(case, 'feature', tuple(fmap.shape), 'logits', tuple(out.logits.shape), 'boxes max', out.pred_boxes.max().item())
    write_cli(folder, model, 131 if kind == 'timm' else 157, 223 if kind == 'timm' else 109)


def write_cli(folder, model, height, width):
    """The model on a PNG file through transformers' own preprocessing (see the docstring)."""
    g = torch.Generator().manual_seed(height * 1000 + width)
    ys, xs = torch.meshgrid(torch.linspace(0, 1, height), torch.linspace(0, 1, width), indexing='ij')
    smooth = torch.stack([torch.sin(9 * xs + 4 * ys), torch.cos(7 * ys - 5 * xs), torch.sin(13 * xs * ys)]) * 0.45 + 0.5
    rgb = (255 * (smooth + 0.08 * torch.randn(smooth.shape, generator=g))).round().clamp(0, 255).to(torch.uint8)
    Image.fromarray(rgb.permute(1, 2, 0).numpy(), 'RGB').save(os.path.join(folder, 'cli_image.png'))
    tmp = folder + '_processor'
    DetrImageProcessor(size={'shortest_edge': 96, 'longest_edge': 160}).save_pretrained(tmp)
    processor = AutoImageProcessor.from_pretrained(tmp)
    shutil.move(os.path.join(tmp, 'preprocessor_config.json'), os.path.join(folder, 'cli_preprocessor_config.json'))
    shutil.rmtree(tmp)
    inputs = processor(images=Image.open(os.path.join(folder, 'cli_image.png')).convert('RGB'), return_tensors='pt')
    with torch.no_grad():
        out = model(pixel_values=inputs['pixel_values'], pixel_mask=inputs['pixel_mask'], output_attentions=True)
    ref = {'input': inputs['pixel_values'][0], 'logits': out.logits[0], 'boxes': out.pred_boxes[0]}
    for l, a in enumerate(out.encoder_attentions):
        ref[f'encoder.{l}'] = a[0]
    for l, a in enumerate(out.decoder_attentions):
        ref[f'decoder_self.{l}'] = a[0]
    for l, a in enumerate(out.cross_attentions):
        ref[f'decoder_cross.{l}'] = a[0]
    post = processor.post_process_object_detection(out, threshold=0.0, target_sizes=[(height, width)])[0]
    ref.update(post_scores=post['scores'], post_labels=post['labels'].float(), post_boxes=post['boxes'])
    save_file({k: v.float().contiguous() for k, v in ref.items()}, os.path.join(folder, 'cli_reference.safetensors'))
    print('  cli', type(processor).__name__, 'input', tuple(inputs['pixel_values'].shape), 'mask all ones', bool(inputs['pixel_mask'].all()),
          'scores', [round(v, 3) for v in post['scores'].tolist()])


write('detr_timm_v4', 'timm', 'v4', torch.float16)
write('detr_timm_v5', 'timm', 'v5', torch.float32)
write('detr_hf_v4', 'hf', 'v4', torch.float16)
write('detr_hf_v5', 'hf', 'v5', torch.float32)
