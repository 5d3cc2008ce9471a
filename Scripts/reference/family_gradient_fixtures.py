"""Writes gradient-map references for every ViT family fixture, from PyTorch autograd, into
Tests/VitAttendCLITests/Fixtures/attribution/families/<case>.safetensors.

Regenerate: python3 Scripts/reference/family_gradient_fixtures.py [case ...]
            (torch 2.15, timm 1.0.31, transformers 5.25.0, open_clip_torch 3.3.0, numpy)

A new family is one line: append its fixture folder's name to FAMILIES below (and to
FamilyGradientTests.families). A case is a folder of Tests/VAModelsTests/Fixtures, rebuilt in
its own library from its files, dispatched by what the folder holds:
  open_clip_config.json                  open_clip.CLIP(**model_cfg), its `visual` tower
  config.json with `architecture`        timm: timm.create_model(architecture, **model_args)
                                         (`vit_custom`: VisionTransformer(**model_args); a
                                         `vision_attention.conv_stem`: the HybridEmbed build of
                                         vit_convstem_saved_check.py), then load_state_dict
  config.json with `model_type`          transformers: <architectures[0]>.from_pretrained with
                                         attn_implementation='eager' (a CLIP/SigLIP model's
                                         vision_model; Siglip2/NaFlex gets the image as its
                                         processor's patches with spatial_shapes, no padding)
`<case>@2` takes the folder's second input (reference2.safetensors) instead; a timm model
that refuses that size as built (a strict patch embedding) is rebuilt at it and loaded
through its checkpoint_filter_fn (how BEiT resizes its relative position tables).
The dispatch was tried on tiny random timm vit_*_dinov3(_qkvb), vit_*_rope_*(mixed_ape,
reg1_gap), vit_pe_core_*, aimv2_*, naflexvit_*(gap, map) and transformers DINOv3ViTModel and
Siglip2VisionModel models: each runs as it is, so those families need only their names. The folder's
reference.safetensors gives `input`; the rebuilt model must reproduce its attention and its
logits or pooled output (checked here, so a wrong rebuild cannot write a reference). Folders
without one (toolkit_saved*) get the deterministic input of vit_toolkit_saved_check.py,
(i % 17) / 17 - 0.5, and their logits are checked against its timm_logits.json /
timm_outputs.json.

Targets (definitions as attribution_fixtures.py's docstring, which this follows exactly):
  a classifier      y = logits[K] for K = the top-1 class (class.0) and a middling class
                    (class.1, the median of the sorted logits)
  no classifier     y = cosine(pooled, target.{i}) for two fixed random targets
                    (torch.randn(D) seeded 4 and 5; seed 4 is target_embedding.safetensors),
                    pooled as the Swift model pools: the class token after the final norm
                    (timm, ViTModel, DINOv2, CLIP's post_layernorm, open_clip's ln_post before
                    `proj`) or the attention-pooling head's output (SigLIP)
Per target i:
  gradrollout.{i}  [T, T]       Chefer et al. 2021: R = I; per layer R <- R + Abar @ R
  attngrad.{i}     [L, T, T]    Abar = mean_heads(relu(dy/dA * A)), A post-softmax attention
  gradcam.{i}      [rows, cols] pytorch-grad-cam's GradCAM on the last block's first norm
                                (timm blocks[-1].norm1; HF layernorm_before / norm1 /
                                layer_norm1; open_clip resblocks[-1].ln_1), prefix tokens
                                dropped: relu(sum_c mean_patches(dy/dX_c) X_c), before scaling
The attention-pooling head's own attention is not a layer of the rollout (the Swift rollout
runs over the blocks and reads its result through the pooling weights). A is made
differentiable by eager attention everywhere: timm.layers.set_fused_attn(False) and a hook on
each block's attn_drop output; transformers' eager attentions (output_attentions=True, the
tensors the matmul uses); open_clip's nn.MultiheadAttention replaced per block by the same
computation written out (q, k, v = in_proj(x); softmax(q k^T / sqrt(d)) v; out_proj).
Also written: input, logits or (embedding [D], score.{i}).
"""
import importlib, inspect, json, os, sys
import numpy as np
import torch
import torch.nn.functional as F
import timm
import timm.layers
from safetensors.torch import load_file, save_file

# One name per line: the fixture folders (Tests/VAModelsTests/Fixtures/<name>) to explain.
FAMILIES = [
    'timm_basic',
    'timm_registers_nonsquare',
    'timm_nonsquare_resample',
    'timm_clip_quickgelu',
    'timm_deit_distilled',
    'timm_siglip',
    'timm_beit',
    'timm_beit@2',
    'timm_eva02',
    'timm_eva02_packed',
    'timm_eva02_clip',
    'timm_dinov2_swiglu',
    'toolkit_saved',
    'toolkit_saved_map',
    'toolkit_saved_convstem',
    'hf_classifier',
    'hf_backbone',
    'hf_clip',
    'hf_siglip',
    'hf_siglip_vision',
    'hf_dinov2',
    'hf_dinov2_registers',
    'hf_deit_distilled',
    'open_clip_quickgelu',
    'timm_rope@2',
    'timm_rope_ape@2',
    'timm_rope_mixed@2',
    'timm_rope_reg_gap@2',
    'timm_pe_core@2',
    'timm_pe_spatial@2',
    'timm_pe_lang@2',
    'timm_dinov3@2',
    'timm_dinov3_swiglu@2',
    'hf_dinov3@2',
    'hf_dinov3_gated@2',
    'timm_aimv2@2',
    'timm_test_vit4',
    'hf_siglip2_vision',
    'hf_siglip2',
    'timm_naflex@2',
    'timm_naflex_par@2',
]

timm.layers.set_fused_attn(False)  # before any model is built: timm reads it at construction
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
fixtures = os.path.join(here, '..', '..', 'Tests', 'VAModelsTests', 'Fixtures')
out = os.path.join(here, '..', '..', 'Tests', 'VitAttendCLITests', 'Fixtures', 'attribution', 'families')


class Rebuilt:
    """A fixture's model in its own library. forward(x [1, 3, H, W]) returns the head's output
    [1, K] (or the pooled embedding [1, D] when has_head is False) and fills self.attention
    (each block's post-softmax attention, [1, heads, T, T], grads retained) and
    self.activation (the last block's first norm output [1, T, D], grad retained)."""

    def __init__(self, module, blocks, norm_name, attention_hooks, call, has_head, prefix):
        self.module, self.call, self.has_head, self.prefix = module.eval(), call, has_head, prefix
        self.attention, self.activation = [], []
        for hook_target in attention_hooks:
            hook_target.register_forward_hook(self.keep(self.attention))
        getattr(blocks[-1], norm_name).register_forward_hook(self.keep(self.activation))

    @staticmethod
    def keep(into):
        def hook(module, inputs, output):  # returns None: the output is left as it is
            if output.requires_grad:
                output.retain_grad()
            into.append(output)
        return hook

    def forward(self, x):
        self.attention.clear()
        self.activation.clear()
        return self.call(x)


def as_args(args):
    return {k: (tuple(v) if isinstance(v, list) else v) for k, v in args.items()}


def load(model, state):
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith('num_batches_tracked') for k in missing), (missing, unexpected)


def runs(model, size):
    """Whether the model takes an input of `size` as it is (NaFlex and rope models do; a
    strict patch embedding refuses)."""
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, 3, *size))
        return True
    except (AssertionError, RuntimeError):
        return False


def timm_model(folder, config, size):
    args = as_args(config['model_args'])
    architecture = config['architecture'].split('.')[0]
    if 'conv_stem' in config.get('vision_attention', {}):
        from vit_convstem_saved_check import build
        model = build(config)
    elif architecture == 'vit_custom':
        model = timm.models.vision_transformer.VisionTransformer(**args)
    else:
        model = timm.create_model(architecture, pretrained=False, **args)
    state = load_file(os.path.join(folder, 'model.safetensors'))
    side = args.get('img_size', 224)
    side = tuple(side) if isinstance(side, tuple) else (side, side)
    load(model, state)
    if not args.get('dynamic_img_size') and size != side and not runs(model, size):
        # A fixed-size timm model at another grid: rebuilt there, the checkpoint loaded through
        # the architecture's own filter (BEiT's relative position tables are resized there).
        model = timm.create_model(architecture, pretrained=False, **dict(args, img_size=size))
        load(model, importlib.import_module(type(model).__module__).checkpoint_filter_fn(state, model))
    return Rebuilt(model, model.blocks, 'norm1', [b.attn.attn_drop for b in model.blocks], model, model.num_classes > 0,
                   model.num_prefix_tokens)


def transformers_model(folder, config, size):
    import transformers
    # A config written by hand (no `architectures`) names its model through model_type alone.
    name = config['architectures'][0] if config.get('architectures') else \
        type(transformers.AutoModel.from_config(transformers.AutoConfig.for_model(**config))).__name__
    kwargs = {'add_pooling_layer': False} if name == 'ViTModel' else {}
    model = getattr(transformers, name).from_pretrained(folder, attn_implementation='eager', **kwargs).eval()
    tower = getattr(model, 'vision_model', model)  # what is called: the classifier, or CLIP's image tower
    # The blocks: the module list whose blocks have a first norm (transformers 5 keeps them as
    # vit.layers, dinov2's encoder.layer, CLIP's encoder.layers, DINOv3's model.layer).
    norms = ('layernorm_before', 'norm1', 'layer_norm1')
    blocks = next(m for _, m in tower.named_modules()
                  if isinstance(m, torch.nn.ModuleList) and len(m) and any(hasattr(m[-1], n) for n in norms))
    norm = next(n for n in norms if hasattr(blocks[-1], n))
    image_size = (config.get('vision_config') or config).get('image_size')
    extra = {}
    if size != (image_size, image_size) and 'interpolate_pos_encoding' in inspect.signature(tower.forward).parameters:
        extra['interpolate_pos_encoding'] = True
    has_head = hasattr(model, 'classifier') or hasattr(model, 'cls_classifier')
    vision = config.get('vision_config') or config
    tokens = 1 + int(any('distillation_token' in n for n, _ in tower.named_parameters())) + vision.get('num_register_tokens', 0)
    prefix = 0 if 'siglip' in config['model_type'] else tokens

    naflex = 'spatial_shapes' in inspect.signature(tower.forward).parameters

    def call(x):
        if naflex:
            # Siglip2 (NaFlex) takes the image as patches [1, N, P*P*C] (Siglip2ImageProcessor's
            # convert_image_to_patches: row-major patches, each (row, column, channel)), the grid
            # and a mask (all ones: no padding).
            p, (_, c, h, w) = vision['patch_size'], x.shape
            patches = x[0].reshape(c, h // p, p, w // p, p).permute(1, 3, 2, 4, 0).reshape(1, (h // p) * (w // p), p * p * c)
            shapes = torch.tensor([[h // p, w // p]])
            result = tower(pixel_values=patches, pixel_attention_mask=torch.ones(1, patches.shape[1], dtype=torch.long),
                           spatial_shapes=shapes, output_attentions=True)
        else:
            result = tower(pixel_values=x, output_attentions=True, **extra)
        # The attentions transformers returns are the tensors its eager matmul uses.
        for a in result.attentions:
            if a.requires_grad:
                a.retain_grad()
        rebuilt.attention.extend(result.attentions)
        if has_head:
            return result.logits
        pooled = getattr(result, 'pooler_output', None)
        return pooled if pooled is not None else result.last_hidden_state[:, 0]

    rebuilt = Rebuilt(tower, blocks, norm, [], call, has_head, prefix)
    return rebuilt


def eager_attention(block, into):
    """nn.MultiheadAttention's self-attention written out, so its weights are a graph tensor."""
    mha = block.attn
    heads = mha.num_heads

    def attention(q_x, k_x=None, v_x=None, attn_mask=None):
        assert k_x is None and v_x is None and attn_mask is None
        b, t, d = q_x.shape
        q, k, v = F.linear(q_x, mha.in_proj_weight, mha.in_proj_bias).chunk(3, dim=-1)
        q, k, v = (z.reshape(b, t, heads, d // heads).transpose(1, 2) for z in (q, k, v))  # [B, H, T, d]
        a = (q * (d // heads) ** -0.5 @ k.transpose(-2, -1)).softmax(-1)
        if a.requires_grad:
            a.retain_grad()
        into.append(a)
        return mha.out_proj((a @ v).transpose(1, 2).reshape(b, t, d))
    return attention


def open_clip_model(folder):
    try:
        import open_clip
    except ImportError:
        sys.exit(f'{folder} is an open_clip checkpoint: pip install --no-deps open_clip_torch ftfy regex wcwidth '
                 '(--no-deps keeps the installed torch)')
    config = json.load(open(os.path.join(folder, 'open_clip_config.json')))
    model = open_clip.CLIP(**config['model_cfg']).eval()
    model.load_state_dict(load_file(os.path.join(folder, 'open_clip_model.safetensors')))
    visual = model.visual
    visual.proj = None  # the Swift model's embedding is ln_post's class token, before `proj`
    blocks = visual.transformer.resblocks
    rebuilt = Rebuilt(visual, blocks, 'ln_1', [], visual, False, 1)
    for block in blocks:
        block.attention = eager_attention(block, rebuilt.attention)
    return rebuilt


def load_case(case):
    """The rebuilt model, the input [3, H, W] and what the model must reproduce."""
    name, _, variant = case.partition('@')
    folder = os.path.join(fixtures, name)
    reference_path = os.path.join(folder, f'reference{variant}.safetensors')
    reference = load_file(reference_path) if os.path.exists(reference_path) else {}
    if 'input' in reference:
        x = reference['input']
    else:  # vit_toolkit_saved_check.py's / vit_convstem_saved_check.py's input
        h, w = (32, 48) if name == 'toolkit_saved_convstem' else (32, 32)
        x = torch.tensor([(i % 17) / 17 - 0.5 for i in range(3 * h * w)], dtype=torch.float32).reshape(3, h, w)
        for outputs in ('timm_logits.json', 'timm_outputs.json'):
            path = os.path.join(folder, outputs)
            if os.path.exists(path):
                logits = json.load(open(path))
                reference['logits'] = torch.tensor(logits[f'{h}x{w}'] if isinstance(logits, dict) else logits)
    size = tuple(x.shape[1:])
    if os.path.exists(os.path.join(folder, 'open_clip_config.json')):
        model = open_clip_model(folder)
    else:
        config = json.load(open(os.path.join(folder, 'config.json')))
        model = timm_model(folder, config, size) if 'architecture' in config else transformers_model(folder, config, size)
    return model, x, reference


def peak_error(got, want):
    return ((got - want).abs().max() / want.abs().max().clamp(min=1e-30)).item()


def explain(model, x, target):
    """One forward and backward pass for y = target(output); returns y, the output and the maps."""
    output = model.forward(x[None].clone().requires_grad_(True))
    y = target(output[0])
    y.backward()
    attention, act = model.attention, model.activation[0]
    t = attention[0].shape[-1]
    r = torch.eye(t, dtype=torch.float64)
    terms = []
    for a in attention:
        assert a.grad is not None, 'an attention tensor is off the gradient path'
        cam = (a.grad[0].double() * a[0].double()).clamp(min=0).mean(0)
        terms.append(cam.float())
        r = r + cam @ r
    h, w = x.shape[1:]
    n_prefix = model.prefix
    # The grid: T - prefix patches at the input's aspect ratio, stride sqrt(H W / N) (a conv
    # stem's stride is not its patch_size).
    stride = round(((h * w) / (t - n_prefix)) ** 0.5)
    gh, gw = h // stride, w // stride
    assert gh * gw == t - n_prefix, (h, w, t, stride)
    # pytorch-grad-cam: reshape_transform drops the prefix, [1, N, C] -> [1, C, rows, cols].
    activations = act[0, n_prefix:].detach().double().reshape(gh, gw, -1).permute(2, 0, 1).numpy()
    grads = act.grad[0, n_prefix:].double().reshape(gh, gw, -1).permute(2, 0, 1).numpy()
    weights = np.mean(grads, axis=(1, 2))                      # GradCAM.get_cam_weights
    cam = np.maximum((weights[:, None, None] * activations).sum(axis=0), 0)  # get_cam_image, relu
    return y.detach(), output[0].detach(), r.float(), torch.stack(terms), torch.from_numpy(cam).float()


def write_case(case):
    model, x, reference = load_case(case)
    with torch.no_grad():
        output = model.forward(x[None])[0]
    checks = {}
    for l, a in enumerate(model.attention):
        if f'attn.{l}' in reference:
            checks[f'attn.{l}'] = peak_error(a[0], reference[f'attn.{l}'])
    # A model with a head is checked on its logits; a fixture may hold its pooled features too.
    for key in (('logits',) if model.has_head else ('pooled', 'embedding')):
        if key in reference:
            checks[key] = peak_error(output, reference[key])
    assert checks and max(checks.values()) < 1e-4, f'{case}: the rebuilt model differs from its fixture: {checks}'
    tensors = {'input': x.contiguous()}
    if model.has_head:
        tensors['logits'] = output.contiguous()
        top = int(output.argmax())
        other = int(output.argsort()[len(output) // 2])  # a middling class, not the top-1
        assert other != top
        targets = [(f'class {k}', {'class': torch.tensor([float(k)])}, lambda o, k=k: o[k]) for k in (top, other)]
    else:
        tensors['embedding'] = output.contiguous()
        targets = []
        for seed in (4, 5):
            e = torch.randn(output.shape[0], generator=torch.Generator().manual_seed(seed))
            targets.append((f'target seed {seed}', {'target': e}, lambda o, e=e: F.cosine_similarity(o, e.to(o.dtype), dim=0)))
    # Each map twice: PyTorch's float32 autograd (what its users get) and the same in float64
    # (`exact.*`). On peaky fixtures float32 autograd is itself up to about 1e-5 of a map's
    # maximum from the exact map (Grad-CAM's channel means cancel), the tolerance the Swift side
    # is held to, so the test accepts a map within 1e-5 of either.
    for i, (what, named, target) in enumerate(targets):
        model.module.double()
        _, _, rollout, terms, cam = explain(model, x.double(), target)
        tensors.update({f'exact.gradrollout.{i}': rollout.contiguous(), f'exact.attngrad.{i}': terms.contiguous(),
                        f'exact.gradcam.{i}': cam.contiguous()})
        model.module.float()
        y, _, rollout, terms, cam = explain(model, x, target)
        tensors.update({f'{k}.{i}': v.contiguous() for k, v in named.items()})
        tensors.update({f'gradrollout.{i}': rollout.contiguous(), f'attngrad.{i}': terms.contiguous(), f'gradcam.{i}': cam.contiguous()})
        if not model.has_head:
            tensors[f'score.{i}'] = y.reshape(1)
        print(f'{case}: {what}: y {y.item():.5f}, gradrollout max {rollout.max():.4f}, gradcam max {cam.max():.3g}, '
              f'T {rollout.shape[0]}, grid {list(cam.shape)}')
    print(f'  rebuilt model vs fixture: ' + ', '.join(f'{k} {v:.1e}' for k, v in checks.items()))
    os.makedirs(out, exist_ok=True)
    save_file(tensors, os.path.join(out, f'{case}.safetensors'))


if __name__ == '__main__':
    torch.manual_seed(0)
    for case in sys.argv[1:] or FAMILIES:
        write_case(case)
    print('ok')
