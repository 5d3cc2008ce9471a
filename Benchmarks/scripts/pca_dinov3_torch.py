"""The PyTorch + timm peer of `vit-attend IMAGE --weights DIR --map pca --resize none`: DINOv3's
recipe for a picture of patch features, as its notebook and the DINO issues draw it.

    python3 Benchmarks/scripts/pca_dinov3_torch.py --weights DIR --image big.png --out pca.png

DIR holds a timm checkpoint (model.safetensors + config.json with `architecture` and
`model_args`, as make_dinov3_checkpoint.py writes). Steps: PIL decode, (x/255 - mean)/std,
timm forward_features (prefix tokens dropped), scikit-learn PCA(3, whiten=True), RGB =
sigmoid(2 * projection), nearest upsampling to the image, PNG. Two threads (torch and BLAS).
torch 2.15, timm 1.0.31, scikit-learn 1.9.1.
"""
import argparse, json, os
os.environ.setdefault('OMP_NUM_THREADS', '2')
import numpy as np
import torch, timm
from PIL import Image
from safetensors.torch import load_file
from sklearn.decomposition import PCA

parser = argparse.ArgumentParser()
parser.add_argument('--weights', required=True)
parser.add_argument('--image', required=True)
parser.add_argument('--out', required=True)
args = parser.parse_args()
torch.set_num_threads(2)
config = json.load(open(os.path.join(args.weights, 'config.json')))
model = timm.create_model(config['architecture'].split('.')[0], pretrained=False, num_classes=config.get('num_classes', 0),
                          **config.get('model_args', {})).eval()
model.load_state_dict(load_file(os.path.join(args.weights, 'model.safetensors')))
cfg = config['pretrained_cfg']
image = Image.open(args.image).convert('RGB')
p = model.patch_embed.patch_size[0]
w, h = image.size[0] // p * p, image.size[1] // p * p
pixels = torch.from_numpy(np.asarray(image.crop((0, 0, w, h)), dtype=np.float32) / 255).permute(2, 0, 1)
x = (pixels - torch.tensor(cfg['mean'])[:, None, None]) / torch.tensor(cfg['std'])[:, None, None]
with torch.inference_mode():
    tokens = model.forward_features(x[None])[0, model.num_prefix_tokens:]
projection = PCA(n_components=3, whiten=True).fit_transform(tokens.numpy())
rgb = 1 / (1 + np.exp(-2 * projection.reshape(h // p, w // p, 3)))
picture = (rgb * 255).round().astype(np.uint8).repeat(p, 0).repeat(p, 1)
Image.fromarray(picture).save(args.out)
print(f'{w}x{h}: {tokens.shape[0]} patches, D {tokens.shape[1]}')
