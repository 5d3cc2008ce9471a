"""The work `vit-attend IMAGE --weights FOLDER --dump OUT.safetensors` does for a DETR checkpoint,
in transformers: load the folder, preprocess the image with AutoImageProcessor (DetrImageProcessor),
one forward pass with eager attention and output_attentions=True, write the same tensors (input,
logits, boxes, every layer's attention) to a safetensors file. The whole-process yardstick for
vit-attend's DETR timing (Benchmarks/logs/*detr-r50*).

Run: python3 Benchmarks/scripts/detr_transformers_forward.py IMAGE FOLDER OUT.safetensors [THREADS]
"""
import sys
import torch
from PIL import Image
from safetensors.torch import save_file
from transformers import AutoImageProcessor, DetrForObjectDetection

image, folder, out = sys.argv[1:4]
if len(sys.argv) > 4:
    torch.set_num_threads(int(sys.argv[4]))
processor = AutoImageProcessor.from_pretrained(folder)
model = DetrForObjectDetection.from_pretrained(folder, attn_implementation='eager').eval()
inputs = processor(images=Image.open(image).convert('RGB'), return_tensors='pt')
with torch.inference_mode():
    o = model(**inputs, output_attentions=True)
tensors = {'input': inputs['pixel_values'][0], 'detr.logits': o.logits[0], 'detr.boxes': o.pred_boxes[0]}
for name, maps in [('encoder', o.encoder_attentions), ('decoder_self', o.decoder_attentions), ('decoder_cross', o.cross_attentions)]:
    for l, a in enumerate(maps):
        tensors[f'detr.{name}.{l}'] = a[0]
save_file({k: v.contiguous() for k, v in tensors.items()}, out)
print(tuple(inputs['pixel_values'].shape), tuple(o.logits.shape))
