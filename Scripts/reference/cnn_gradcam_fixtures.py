"""PyTorch references for Grad-CAM of a trained CNN (`vit-attend --cnn-weights`).

Regenerate: python3 Scripts/reference/cnn_gradcam_fixtures.py   (torch 2.x, numpy, Pillow; CPU, seed 0)

Builds the networks `ConvNet.load(fromCheckpointFolder:)` rebuilds from a patch-classify CNN
checkpoint, with the torch modules of cnn_fixtures.py (the same parameter names as the Swift
`ConvNet`), random weights and BatchNorm statistics, and writes each as a checkpoint folder in
patch-classify's layout (model.safetensors + config.json) under
Tests/VAInspectionTests/Fixtures/cnn_gradcam/<name>/, with reference.safetensors beside it:
- `resnet`: `resnet-like`, stage_widths [8, 16, 32], 4 classes, input_size 32.
- `resnet_sagan_last`: `resnet-like+sagan`, stage_widths [8, 16], 3 classes, input_size 32, the
  SAGAN block (BigGAN's value form, ratio 8, no key pooling: patch-classify's settings) after
  the last stage, so Grad-CAM's gradient also flows through it.

reference.safetensors: `input` [1, 3, 32, 32] (a 32x32 crop of images/cat.png, normalised
with the checkpoint's mean and std), eval-mode `logits` [classes], `features` [C, h, w] (the
last stage's output, before a SAGAN block placed after it) and, for two classes (`class.0` the
top-1, `class.1` another), Grad-CAM as pytorch-grad-cam computes it with
`target_layers = [net.stages[-1]]` and `ClassifierOutputTarget(k)`: `weights.i` [C] (the spatial
mean of d logit_k / d A) and `gradcam.i` [h, w] = relu(sum_c weights_c A_c), before its
normalisation and resizing. (pytorch-grad-cam needs OpenCV to import, so its lines are written
out here: BaseCAM.forward, GradCAM.get_cam_weights = mean of grads over axes (2, 3),
get_cam_image = relu(weighted sum).)
"""
import json, os, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from cnn_fixtures import Net, SwiftNamedAttention  # noqa: E402  (the Swift ConvNet's torch mirror)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests/VAInspectionTests/Fixtures/cnn_gradcam")
MEAN, STD = [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]


class UnpooledAttention(SwiftNamedAttention):
    """SAGANAttention(channels:, ratio: 8, valueForm: .bigGAN, poolsKeys: false): BigGAN's
    block without the 2x2 pooling of keys and values."""
    def forward(self, x):
        b, c, h, w = x.shape
        conv = lambda layer, t: F.conv2d(t, layer.weight[:, :, None, None])
        theta = conv(self.query, x).view(b, self.r, h * w)
        phi = conv(self.key, x).view(b, self.r, h * w)
        g = conv(self.value, x).view(b, c // 2, h * w)
        beta = F.softmax(torch.bmm(theta.transpose(1, 2), phi), -1)
        o = conv(self.output, torch.bmm(g, beta.transpose(1, 2)).view(b, c // 2, h, w))
        return self.gamma * o + x


def randomise(net):
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5); module.bias.normal_(0, 0.2)
                module.running_mean.normal_(0, 0.3); module.running_var.uniform_(0.5, 2)
        net.head.weight.normal_(0, 0.5); net.head.bias.normal_(0, 0.1)
        if getattr(net, "attention_after", None) is not None:
            for p in net.attention.parameters():
                p.normal_(0, 0.5)
            net.attention.gamma.fill_(0.8)


def forward_to_target_layer(net, x):
    """The last stage's output A (the hooked activation) and the logits computed from it."""
    last = len(net.stages) - 1
    for i, stage in enumerate(net.stages):
        x = stage(x)
        if i == net.attention_after and i < last:
            x = net.attention(x)
    a = x
    if net.attention_after == last:
        x = net.attention(x)
    return a, net.head(x.mean((2, 3)))


def fixture(name, widths, classes, sagan_after):
    torch.manual_seed({"resnet": 1, "resnet_sagan_last": 2}[name])
    net = Net("resnet", widths, classes)
    net.attention_after = sagan_after
    if sagan_after is not None:
        net.attention = UnpooledAttention(widths[sagan_after], 8)
    randomise(net)
    net.eval()
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    state = {k: v.detach().contiguous() for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    save_file(state, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    config = {"architecture": "resnet-like" if sagan_after is None else "resnet-like+sagan", "stage_widths": widths,
              "num_classes": classes, "sagan_after_stage": sagan_after, "mean": MEAN, "std": STD,
              "input_size": [3, 32, 32], "label_names": [f"class{k}" for k in range(classes)]}
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)

    image = np.asarray(Image.open(os.path.join(ROOT, "images/cat.png")).convert("RGB"), dtype=np.float32) / 255
    rgb = torch.from_numpy(image[90:122, 190:222].transpose(2, 0, 1).copy())
    x = ((rgb - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None])[None]
    out = {"input": x.contiguous()}
    with torch.no_grad():
        features, logits = forward_to_target_layer(net, x)
    out["logits"] = logits[0].contiguous()
    out["features"] = features[0].contiguous()
    def gradcam(k):
        # BaseCAM.forward: activations and gradients of the target layer by hooks, then
        # loss = sum of ClassifierOutputTarget(k)(output) = output[k]; backward.
        a, y = forward_to_target_layer(net, x)
        a.retain_grad()
        net.zero_grad()
        y[0, k].backward()
        weights = a.grad.mean(dim=(2, 3))[0]                             # GradCAM.get_cam_weights
        cam = F.relu((weights[:, None, None] * a.detach()[0]).sum(0))    # BaseCAM.get_cam_image
        return weights.detach(), cam

    order = [int(k) for k in torch.argsort(logits[0], descending=True)]
    # The second class: the most likely one after the top-1 whose map is not all zeros, so the
    # test compares two different, non-trivial maps.
    second = next(k for k in order[1:] if gradcam(k)[1].max() > 0)
    for i, k in enumerate([order[0], second]):
        weights, cam = gradcam(k)
        out[f"class.{i}"] = torch.tensor([float(k)])
        out[f"weights.{i}"] = weights.contiguous()
        out[f"gradcam.{i}"] = cam.contiguous()
    save_file(out, os.path.join(folder, "reference.safetensors"))


if __name__ == "__main__":
    fixture("resnet", [8, 16, 32], 4, None)
    fixture("resnet_sagan_last", [8, 16], 3, 1)
