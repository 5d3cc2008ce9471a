"""Measures, for every family fixture, the largest difference between `vit-attend --dump` and the
reference, relative to the reference's largest magnitude (the measure the tests bound by 1e-5).

Run after `swift build`: python3 Scripts/reference/family_errors.py [path/to/vit-attend]
Writes the table to stdout (committed as Benchmarks/logs/vit_family_errors.txt).
"""
import os, subprocess, sys, tempfile
from safetensors.numpy import load_file
import numpy as np

root = os.path.join(os.path.dirname(__file__), '..', '..')
binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, '.build', 'debug', 'vit-attend')
fixtures = os.path.join(root, 'Tests', 'VAModelsTests', 'Fixtures')
cases = [('timm_clip_quickgelu', ''), ('timm_deit_distilled', ''), ('timm_siglip', ''), ('timm_beit', ''), ('timm_beit', '2'),
         ('timm_eva02', ''), ('timm_eva02_packed', ''), ('timm_dinov2_swiglu', ''), ('timm_eva02_clip', ''), ('hf_clip', ''), ('hf_siglip', ''), ('hf_siglip_vision', ''),
         ('hf_dinov2', ''), ('hf_dinov2_registers', ''), ('hf_deit_distilled', ''), ('open_clip_quickgelu', ''),
         ('timm_dinov3', ''), ('timm_dinov3', '2'), ('timm_dinov3_swiglu', ''), ('timm_dinov3_swiglu', '2'),
         ('hf_dinov3', ''), ('hf_dinov3', '2'), ('hf_dinov3_gated', ''), ('hf_dinov3_gated', '2'),
         ('timm_rope', ''), ('timm_rope', '2'), ('timm_rope_ape', ''), ('timm_rope_ape', '2'), ('timm_rope_mixed', ''),
         ('timm_rope_mixed', '2'), ('timm_rope_reg_gap', ''), ('timm_rope_reg_gap', '2'), ('timm_pe_core', ''), ('timm_pe_core', '2'),
         ('timm_pe_spatial', ''), ('timm_pe_spatial', '2'), ('timm_pe_lang', ''), ('timm_pe_lang', '2'),
         ('timm_aimv2', ''), ('timm_aimv2', '2'), ('timm_test_vit4', ''),
         ('timm_naflex', ''), ('timm_naflex', '2'), ('timm_naflex_par', ''), ('timm_naflex_par', '2'),
         ('hf_siglip2_vision', ''), ('hf_siglip2_vision', '2'), ('hf_siglip2', ''), ('hf_siglip2', '2')]
# NaFlex SigLIP-2's references went through its processor's resize: the default fit, not --resize none.
processor_sized = {'hf_siglip2_vision', 'hf_siglip2'}
print(f'{"fixture":26} {"grid":>7} {"input":>9} {"attention":>9} {"attn.pool":>9} {"logits":>9} {"pooled":>9} {"tokens":>9}')
with tempfile.TemporaryDirectory() as scratch:
    for case, variant in cases:
        folder = os.path.join(fixtures, case)
        dump = os.path.join(scratch, 'd.safetensors')
        resize = [] if case in processor_sized else ['--resize', 'none']
        command = [binary, os.path.join(folder, f'input{variant}.png'), '--weights', folder] + resize
        subprocess.run(command + ['--dump', dump], check=True, capture_output=True)
        got, ref = load_file(dump), load_file(os.path.join(folder, f'reference{variant}.safetensors'))
        if 'embedding' in got:
            got['pooled'] = got['embedding']  # a model without a classifier dumps its pooled output so
        if 'tokens' in ref:
            # --map pca dumps the final tokens it reads (prefix included) as `features`.
            subprocess.run(command + ['--map', 'pca', '--dump', dump], check=True, capture_output=True)
            got['tokens'] = load_file(dump)['features']

        def error(names):
            names = [n for n in names if n in ref and n in got]
            if not names:
                return '-'
            return f'{max(np.abs(got[n] - ref[n]).max() / np.abs(ref[n]).max() for n in names):.1e}'
        layers = [n for n in ref if n.startswith('attn.') and n != 'attn.pool']
        h, w = ref['input'].shape[1:]
        print(f'{case + (" (" + variant + ")" if variant else ""):26} {f"{w}x{h}":>7} {error(["input"]):>9} {error(layers):>9} '
              f'{error(["attn.pool"]):>9} {error(["logits"]):>9} {error(["pooled"]):>9} {error(["tokens"]):>9}')
