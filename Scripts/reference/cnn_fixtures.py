"""PyTorch references for SAGAN, the ConvNet presets, the effective receptive field and the
page's SAGAN panel.

Regenerate: python3 Scripts/reference/cnn_fixtures.py   (torch 2.x, numpy, Pillow; CPU, seed 0)

Writes
- Tests/VAModelsTests/Fixtures/pytorch_cnn/sagan_biggan.safetensors: BigGAN-PyTorch's
  `layers.Attention` (theta/phi/g/o 1x1 convs without bias, 2x2 max pooling of phi and g,
  gamma), with plain nn.Conv2d where BigGAN uses SNConv2d; input, weights, gamma, output and
  the softmax `beta`.
- .../sagan_original.safetensors: SAGAN's original `Self_Attn` (heykeetae/Self-Attention-GAN,
  sagan_models.py): query/key/value 1x1 convs with bias (C/8, C/8, C), gamma; input, weights,
  output, attention.
- .../convnet_{vgg,resnet,vgg_sagan}.safetensors (a state_dict, loadable by ConvNet.load) and
  convnet_*_io.safetensors: the Swift presets
  `vggLike(widths: [4, 8, 8, 16], classCount: 5)`, `resNetLike(widths: [4, 8, 8, 16],
  classCount: 5)` and `vggLike(widths: [4, 8], classCount: 5)` with BigGAN attention after
  stage 1 (ratio 2, pooled keys), built here as torch modules under the Swift parameter names
  (`stages.{i}.{j}.conv.weight`, ...), random BN statistics; input, eval-mode logits and
  features, training-mode logits and the first BN's running mean after that step.
- .../feature_sagan.safetensors: the page's SAGAN panel (FeatureSAGAN: fixed edge and colour
  filters, ReLU, pooling, standardised unit columns, softmax of cosine / 0.1) on a 64x48 crop
  of images/cat.png; input and attention.
- Tests/VAInspectionTests/Fixtures/erf_reference.json: the effective receptive field of
  uniform-weight stacks by torch autograd (1-channel convs of ones, average pooling with
  padding counted), per spec: the input size, the unit, the gradient's x-profile (sum over
  rows, normalised), how far the 2D gradient is from the outer product of its profiles, and
  the radii holding 50% and 95% of the 2D mass around its centre of mass (by sorting cells).
"""
import json, os
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save_file

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests/VAModelsTests/Fixtures/pytorch_cnn")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)


# ---- SAGAN, BigGAN's layout (BigGAN-PyTorch layers.py, class Attention) -------------------
class Attention(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.ch = ch
        self.theta = nn.Conv2d(ch, ch // 8, kernel_size=1, padding=0, bias=False)
        self.phi = nn.Conv2d(ch, ch // 8, kernel_size=1, padding=0, bias=False)
        self.g = nn.Conv2d(ch, ch // 2, kernel_size=1, padding=0, bias=False)
        self.o = nn.Conv2d(ch // 2, ch, kernel_size=1, padding=0, bias=False)
        self.gamma = nn.Parameter(torch.tensor(0.), requires_grad=True)

    def forward(self, x):
        theta = self.theta(x)
        phi = F.max_pool2d(self.phi(x), [2, 2])
        g = F.max_pool2d(self.g(x), [2, 2])
        theta = theta.view(-1, self.ch // 8, x.shape[2] * x.shape[3])
        phi = phi.view(-1, self.ch // 8, x.shape[2] * x.shape[3] // 4)
        g = g.view(-1, self.ch // 2, x.shape[2] * x.shape[3] // 4)
        beta = F.softmax(torch.bmm(theta.transpose(1, 2), phi), -1)
        o = self.o(torch.bmm(g, beta.transpose(1, 2)).view(-1, self.ch // 2, x.shape[2], x.shape[3]))
        return self.gamma * o + x, beta


# ---- SAGAN, the original layout (heykeetae/Self-Attention-GAN sagan_models.py, Self_Attn) --
class Self_Attn(nn.Module):
    def __init__(self, in_dim):
        super().__init__()
        self.query_conv = nn.Conv2d(in_dim, in_dim // 8, kernel_size=1)
        self.key_conv = nn.Conv2d(in_dim, in_dim // 8, kernel_size=1)
        self.value_conv = nn.Conv2d(in_dim, in_dim, kernel_size=1)
        self.gamma = nn.Parameter(torch.zeros(1))
        self.softmax = nn.Softmax(dim=-1)

    def forward(self, x):
        m_batchsize, C, width, height = x.size()
        proj_query = self.query_conv(x).view(m_batchsize, -1, width * height).permute(0, 2, 1)
        proj_key = self.key_conv(x).view(m_batchsize, -1, width * height)
        energy = torch.bmm(proj_query, proj_key)
        attention = self.softmax(energy)
        proj_value = self.value_conv(x).view(m_batchsize, -1, width * height)
        out = torch.bmm(proj_value, attention.permute(0, 2, 1))
        out = out.view(m_batchsize, C, width, height)
        out = self.gamma * out + x
        return out, attention


def sagan_fixtures():
    with torch.no_grad():
        big = Attention(16)
        for p in big.parameters():
            p.normal_(0, 0.5)
        big.gamma.fill_(0.7)
        x = torch.randn(2, 16, 6, 8)
        y, beta = big(x)
        save_file({"x": x, "theta.weight": big.theta.weight, "phi.weight": big.phi.weight, "g.weight": big.g.weight,
                   "o.weight": big.o.weight, "gamma": big.gamma.reshape(1), "y": y, "beta": beta.contiguous()},
                  os.path.join(OUT, "sagan_biggan.safetensors"))
        original = Self_Attn(16)
        for p in original.parameters():
            p.normal_(0, 0.5)
        original.gamma.fill_(0.6)
        x = torch.randn(2, 16, 5, 6)
        y, attention = original(x)
        tensors = {"x": x, "y": y, "attention": attention.contiguous(), "gamma": original.gamma.detach()}
        for name in ["query_conv", "key_conv", "value_conv"]:
            conv = getattr(original, name)
            tensors[name + ".weight"] = conv.weight
            tensors[name + ".bias"] = conv.bias
        save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(OUT, "sagan_original.safetensors"))


# ---- ConvNet presets, as torch modules named like the Swift ones -------------------------
class ConvUnit(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class BasicBlock(nn.Module):  # torchvision.models.resnet.BasicBlock
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
                           if stride != 1 or cin != cout else None)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x))


class SwiftNamedAttention(nn.Module):
    """BigGAN's Attention with the Swift module's names (query/key/value/output, [out, in])."""
    def __init__(self, ch, ratio):
        super().__init__()
        self.ch, self.r = ch, ch // ratio
        self.query = nn.Linear(ch, ch // ratio, bias=False)
        self.key = nn.Linear(ch, ch // ratio, bias=False)
        self.value = nn.Linear(ch, ch // 2, bias=False)
        self.output = nn.Linear(ch // 2, ch, bias=False)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        b, c, h, w = x.shape
        conv = lambda layer, t: F.conv2d(t, layer.weight[:, :, None, None])
        theta = conv(self.query, x).view(b, self.r, h * w)
        phi = F.max_pool2d(conv(self.key, x), 2).view(b, self.r, h * w // 4)
        g = F.max_pool2d(conv(self.value, x), 2).view(b, c // 2, h * w // 4)
        beta = F.softmax(torch.bmm(theta.transpose(1, 2), phi), -1)
        o = conv(self.output, torch.bmm(g, beta.transpose(1, 2)).view(b, c // 2, h, w))
        return self.gamma * o + x


class Net(nn.Module):
    def __init__(self, kind, widths, classes, attention_after=None):
        super().__init__()
        stages, cin = [], 3
        for i, width in enumerate(widths):
            blocks = []
            if kind == "vgg":
                for _ in range(2):
                    blocks.append(ConvUnit(cin, width)); cin = width
                blocks.append(nn.MaxPool2d(2, 2))
            else:
                if i == 0:
                    blocks += [ConvUnit(cin, width), nn.MaxPool2d(2, 2)]; cin = width
                blocks.append(BasicBlock(cin, width, 2 if i > 0 else 1)); cin = width
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)
        self.attention_after = attention_after
        if attention_after is not None:
            self.attention = SwiftNamedAttention(widths[attention_after], 2)
        self.head = nn.Linear(cin, classes)

    def forward(self, x):
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i == self.attention_after:
                x = self.attention(x)
        return self.head(x.mean((2, 3))), x


def convnet_fixtures():
    for name, net in [("vgg", Net("vgg", [4, 8, 8, 16], 5)), ("resnet", Net("resnet", [4, 8, 8, 16], 5)),
                      ("vgg_sagan", Net("vgg", [4, 8], 5, attention_after=1))]:
        with torch.no_grad():
            for module in net.modules():
                if isinstance(module, nn.BatchNorm2d):
                    module.weight.uniform_(0.5, 1.5); module.bias.normal_(0, 0.2)
                    module.running_mean.normal_(0, 0.3); module.running_var.uniform_(0.5, 2)
            if name == "vgg_sagan":
                for p in net.attention.parameters():
                    p.normal_(0, 0.5)
                net.attention.gamma.fill_(0.5)
        x = torch.randn(2, 3, 16, 16)
        tensors = {k: v.detach().clone() for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
        net.eval()
        with torch.no_grad():
            logits, features = net(x)
        net.train()
        with torch.no_grad():
            train_logits, _ = net(x)
        save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(OUT, f"convnet_{name}.safetensors"))
        save_file({"input": x, "eval.logits": logits, "eval.features": features.contiguous(), "train.logits": train_logits,
                   "train.stages.0.0.bn.running_mean": net.stages[0][0].bn.running_mean.clone()},
                  os.path.join(OUT, f"convnet_{name}_io.safetensors"))


# ---- the page's SAGAN panel (Sources/VAModels/CNN/FeatureSAGAN.swift, FeatureBank.swift) ----
def feature_sagan_fixture():
    w = torch.zeros(12, 3, 3, 3)
    sobel = [[-1, 0, 1, -2, 0, 2, -1, 0, 1], [0, 1, 2, -1, 0, 1, -2, -1, 0],
             [-1, -2, -1, 0, 0, 0, 1, 2, 1], [-2, -1, 0, -1, 0, 1, 0, 1, 2]]
    for o, kernel in enumerate(sobel):
        for sign in range(2):
            w[o * 2 + sign] = (1 if sign == 0 else -1) * torch.tensor(kernel, dtype=torch.float32).view(1, 3, 3) / 3
    for o, weights in enumerate([[1, -1, 0], [0.5, 0.5, -1]]):
        for sign in range(2):
            w[8 + o * 2 + sign, :, 1, 1] = (1 if sign == 0 else -1) * torch.tensor(weights)
    blur = torch.full((12, 1, 3, 3), 1 / 9)
    image = np.asarray(Image.open(os.path.join(ROOT, "images/cat.png")).convert("RGB"), dtype=np.float32) / 255
    rgb = torch.from_numpy(image[100:148, 180:244].transpose(2, 0, 1).copy())  # [3, 48, 64]
    x = F.relu(F.conv2d(rgb[None], w, padding=1))
    x = F.avg_pool2d(x, 2)
    x = F.conv2d(x, blur, padding=1, groups=12)
    x = F.avg_pool2d(F.avg_pool2d(x, 2), 2)[0]  # [12, 6, 8]
    s = x.reshape(12, -1).double()
    mean, std = s.mean(1, keepdim=True), s.std(1, unbiased=False, keepdim=True)
    s = torch.where(std > 1e-6, (s - mean) / std, torch.zeros_like(s))
    norm = s.norm(dim=0, keepdim=True)
    s = torch.where(norm > 1e-6, s / norm, s)
    attention = torch.softmax(s.T @ s / 0.1, dim=-1)
    save_file({"rgb": rgb.contiguous(), "attention": attention.float().contiguous()}, os.path.join(OUT, "feature_sagan.safetensors"))


# ---- effective receptive field by autograd -------------------------------------------------
PRESETS = {
    "alexnet": "conv11s4p2,pool3s2,conv5p2,pool3s2,conv3p1,conv3p1,conv3p1,pool3s2",
    "vgg16": ",".join(",".join(["conv3p1"] * n + ["pool2s2"]) for n in [2, 2, 3, 3, 3]),
}


def parse(spec):
    layers = []
    for text in PRESETS.get(spec, spec).split(","):
        kind, rest = text[:4], text[4:]
        fields, key, number = {}, "k", ""
        for ch in rest + "$":
            if ch.isdigit():
                number += ch
            else:
                fields[key] = int(number); key, number = ch, ""
        layers.append((kind, fields["k"], fields.get("s", 1), fields.get("p", 0), fields.get("d", 1)))
    return layers


def erf_reference(spec):
    layers = parse(spec)
    size, jump, pad = 1, 1, 0
    for _, k, s, p, d in layers:  # only to choose an input big enough; the check is autograd
        size += (d * (k - 1)) * jump; pad += p * jump; jump *= s
    unit = -(-pad // jump) + 1
    n = unit * jump - pad + size + 2 * jump + 4
    x = torch.zeros(1, 1, n, n, dtype=torch.float64, requires_grad=True)
    y = x
    for kind, k, s, p, d in layers:
        if kind == "conv":
            y = F.conv2d(y, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s, padding=p, dilation=d)
        else:
            y = F.avg_pool2d(y, k, stride=s, padding=p, count_include_pad=True)
    assert unit < y.shape[-1], (spec, unit, y.shape)
    y[0, 0, unit, unit].backward()
    g = x.grad[0, 0].numpy()
    g = g / g.sum()
    profile = g.sum(0)
    separable = float(np.abs(g - np.outer(profile, profile)).max())
    ys, xs = np.indices(g.shape)
    cy, cx = (g * ys).sum(), (g * xs).sum()
    order = np.argsort(np.hypot(xs - cx, ys - cy), axis=None, kind="stable")
    distances = np.hypot(xs - cx, ys - cy).reshape(-1)[order]
    cumulative = np.cumsum(g.reshape(-1)[order])
    radius = lambda f: float(distances[np.searchsorted(cumulative, f - 1e-12)])
    return {"spec": spec, "unit": unit, "inputSize": n, "profile": profile.tolist(),
            "separableError": separable, "radius50": radius(0.5), "radius95": radius(0.95)}


def erf_fixtures():
    specs = ["conv3p1,conv3p1,pool2s2,conv3d2p2", "conv5s2,pool3s3p1,conv3d3,conv1", "conv7s2p3,pool3s2p1,conv3d4,conv2s3",
             "conv3p1,pool2s2,conv3p1,pool2s2,pool2s2", "alexnet", "vgg16"]
    path = os.path.join(ROOT, "Tests/VAInspectionTests/Fixtures/erf_reference.json")
    with open(path, "w") as f:
        json.dump([erf_reference(s) for s in specs], f, separators=(",", ":"))


if __name__ == "__main__":
    sagan_fixtures()
    convnet_fixtures()
    feature_sagan_fixture()
    erf_fixtures()
