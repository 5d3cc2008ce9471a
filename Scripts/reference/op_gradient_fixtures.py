"""Writes Tests/VAModelsTests/Fixtures/op_gradients.safetensors: the backward of the attention
variants the families add, from PyTorch autograd on timm's own modules, so the Swift composed
path is checked op by op (the family fixtures check it end to end, through whole models).

Regenerate: python3 Scripts/reference/op_gradient_fixtures.py   (torch 2.15, timm 1.0.31)

Each case runs one module on x [2, 7, 8] (batch 2; tokens: a class token and a 2x3 patch grid;
D 8, 2 heads of 4; weights random, scaled so attention is far from uniform) and back-propagates
L = sum(output * cotangent) for a fixed random cotangent. Names are <case>.<tensor>:
  rope.*   timm.models.eva.EvaAttention (fused qkv, q/v biases, no k bias) with the
           RotaryEmbeddingCat table of a 2x3 grid (interleaved pairs, timm's half=False) and
           EVA-02's inner LayerNorm (scale_norm): x, qkv.weight [24, 8], qkv.bias [24] (q, 0,
           v), proj.weight, proj.bias, norm.weight, norm.bias, cos, sin [6, 4] (each angle
           repeated for its pair), cotangent, output, attn [2, 2, 7, 7] (post-softmax), and the
           gradients grad.x, grad.qkv.weight, grad.qkv.bias, grad.proj.weight, grad.norm.weight,
           grad.attn (dL/dA, what gradient attribution reads)
  beit.*   timm.models.beit.Attention with its relative position bias (window 2x3, table
           [18, 2]): x, qkv.weight, qkv.bias, proj.weight, proj.bias, table, bias [2, 7, 7]
           (timm's _get_rel_pos_bias()), cotangent, output, attn, grad.x, grad.qkv.weight,
           grad.qkv.bias, grad.proj.weight, grad.attn, grad.bias (dL/d bias [2, 7, 7])
  pool.*   timm.layers.AttentionPoolLatent (SigLIP's head: latent query, kv, proj, LayerNorm,
           GELU MLP of ratio 2) on the 6 patch tokens x [2, 6, 8]: x, latent [1, 8], q.weight,
           q.bias, kv.weight, kv.bias, proj.weight, proj.bias, norm.weight, norm.bias,
           fc1.weight, fc1.bias, fc2.weight, fc2.bias, cotangent [2, 8], output [2, 8], and
           grad.<every one of those inputs>
"""
import os
import torch
import timm.layers
from timm.layers import AttentionPoolLatent, RotaryEmbeddingCat
from timm.models.beit import Attention as BeitAttention
from timm.models.eva import EvaAttention
from safetensors.torch import save_file

timm.layers.set_fused_attn(False)
torch.manual_seed(0)
out = os.path.join(os.path.dirname(__file__), '..', '..', 'Tests', 'VAModelsTests', 'Fixtures', 'op_gradients.safetensors')
D, HEADS, GRID = 8, 2, (2, 3)
T = 1 + GRID[0] * GRID[1]
tensors = {}


def randomise(module, scale=1.0):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(scale * torch.randn(p.shape))


def keep_attention(module, into):
    def hook(_, inputs, output):  # attn_drop's output is the post-softmax matrix the product reads
        output.retain_grad()
        into.append(output)
    module.attn_drop.register_forward_hook(hook)


def attention_case(name, module, forward, extra):
    x = torch.randn(2, T, D, requires_grad=True)
    attn = []
    keep_attention(module, attn)
    y = forward(x)
    cotangent = torch.randn(y.shape)
    (y * cotangent).sum().backward()
    bias = torch.cat((module.q_bias, module.k_bias, module.v_bias)).detach()
    grad_bias = torch.cat((module.q_bias.grad, torch.zeros(D), module.v_bias.grad))  # k has no bias: its slot's gradient is not a parameter's
    tensors.update({f'{name}.x': x.detach(), f'{name}.qkv.weight': module.qkv.weight.detach(), f'{name}.qkv.bias': bias,
                    f'{name}.proj.weight': module.proj.weight.detach(), f'{name}.proj.bias': module.proj.bias.detach(),
                    f'{name}.cotangent': cotangent, f'{name}.output': y.detach(), f'{name}.attn': attn[0].detach(),
                    f'{name}.grad.x': x.grad, f'{name}.grad.qkv.weight': module.qkv.weight.grad, f'{name}.grad.qkv.bias': grad_bias,
                    f'{name}.grad.proj.weight': module.proj.weight.grad, f'{name}.grad.attn': attn[0].grad})
    tensors.update({f'{name}.{k}': v for k, v in extra().items()})
    print(f'{name}: mean row max of A {attn[0].max(-1).values.mean():.2f}, |grad x| max {x.grad.abs().max():.3g}')


# EVA-02's rotary attention.
eva = EvaAttention(D, num_heads=HEADS, qkv_bias=True, qkv_fused=True, num_prefix_tokens=1, norm_layer=torch.nn.LayerNorm,
                   scale_norm=True).eval()  # EVA-02's inner LayerNorm before proj
randomise(eva, 0.7)
rope = RotaryEmbeddingCat(D // HEADS, in_pixels=False, feat_shape=list(GRID))
embedding = rope.get_embed()  # [N, 2d]: sin then cos, each angle repeated for its pair
sin, cos = embedding.tensor_split(2, -1)
attention_case('rope', eva, lambda x: eva(x, rope=embedding), lambda: {
    'cos': cos.contiguous(), 'sin': sin.contiguous(), 'norm.weight': eva.norm.weight.detach(), 'norm.bias': eva.norm.bias.detach(),
    'grad.norm.weight': eva.norm.weight.grad})

# BEiT's relative position bias.
beit = BeitAttention(D, num_heads=HEADS, qkv_bias=True, window_size=GRID).eval()
randomise(beit, 0.7)
biases = []
plain_bias = beit._get_rel_pos_bias


def retained_bias():
    b = plain_bias()  # [heads, T, T] gathered from the table
    b.retain_grad()
    biases.append(b)
    return b


beit._get_rel_pos_bias = retained_bias
attention_case('beit', beit, lambda x: beit(x), lambda: {
    'table': beit.relative_position_bias_table.detach(), 'bias': biases[0].detach()[0] if biases[0].dim() == 4 else biases[0].detach(),
    'grad.bias': biases[0].grad[0] if biases[0].dim() == 4 else biases[0].grad})

# SigLIP's attention-pooling head.
pool = AttentionPoolLatent(D, num_heads=HEADS, mlp_ratio=2.0, norm_layer=torch.nn.LayerNorm).eval()
randomise(pool, 0.7)
x = torch.randn(2, T - 1, D, requires_grad=True)
y = pool(x)
cotangent = torch.randn(y.shape)
(y * cotangent).sum().backward()
parts = {'latent': pool.latent, 'q.weight': pool.q.weight, 'q.bias': pool.q.bias, 'kv.weight': pool.kv.weight, 'kv.bias': pool.kv.bias,
         'proj.weight': pool.proj.weight, 'proj.bias': pool.proj.bias, 'norm.weight': pool.norm.weight, 'norm.bias': pool.norm.bias,
         'fc1.weight': pool.mlp.fc1.weight, 'fc1.bias': pool.mlp.fc1.bias, 'fc2.weight': pool.mlp.fc2.weight, 'fc2.bias': pool.mlp.fc2.bias}
tensors.update({'pool.x': x.detach(), 'pool.grad.x': x.grad, 'pool.cotangent': cotangent, 'pool.output': y.detach()})
for k, p in parts.items():
    value, grad = (p.detach()[0], p.grad[0]) if k == 'latent' else (p.detach(), p.grad)
    tensors.update({f'pool.{k}': value, f'pool.grad.{k}': grad})
print(f'pool: |grad x| max {x.grad.abs().max():.3g}')

save_file({k: v.contiguous().float() for k, v in tensors.items()}, out)
print('ok')
