#!/usr/bin/env python3
"""Issue 29's table from a log of Benchmarks/scripts/issue29_suite.sh: medians over its rounds.

Prints, for this toolkit beside PyTorch and numpy/OpenBLAS: the measured FMA peak, SGEMM
GFLOP/s on the ViT shapes at 1 and 2 threads with fractions of one core's peak (1 thread) and
of two cores' (2 threads), ViT-Ti/S/B/16 forward latency at batch 1 and 8 with the ratio to
timm's, and training throughput with the ratio to timm's. Standard library only.

    python3 Benchmarks/scripts/issue29_table.py Benchmarks/logs/2026-12-07-issue29-suite-quiet.log
"""
import re
import statistics
import sys
from collections import defaultdict


def median(values):
    return statistics.median(values) if values else float('nan')


def parse(text):
    peaks, gemm, forward, train = [], defaultdict(list), defaultdict(list), defaultdict(list)
    # A '# baseline' line starts the BASELINE build's output, which lasts until the next peer
    # or round header.
    section, in_baseline = None, False
    for line in text.splitlines():
        if m := re.match(r'FMA peak: ([\d.]+) GFLOP/s per core', line):
            peaks.append(float(m.group(1)))
        if line.startswith('sgemm,'):
            section = 'baseline' if in_baseline else 'ours'
        elif line.startswith('torch ') and 'GFLOP/s' in line:
            section, in_baseline = 'torch', False
        elif line.startswith('numpy/OpenBLAS'):
            section, in_baseline = 'numpy', False
        elif line.startswith('# baseline'):
            section, in_baseline = 'baseline', True
        elif line.startswith('##') or line.startswith('vit_'):
            section, in_baseline = None, False
        if section and (m := re.match(r'(\d+x\d+x\d+(?:x\d+)?(?: batched)?)\s+([\d.]+)\s+([\d.]+)', line)):
            gemm[(section, m.group(1), 1)].append(float(m.group(2)))
            gemm[(section, m.group(1), 2)].append(float(m.group(3)))
        if m := re.match(r'ViT-(Ti|S|B)/16 224x224(?: batch=(\d+))? threads=(\d) (recorded|tiled|not recorded): ([\d.]+) ms', line):
            kind = 'recorded' if m.group(4) == 'recorded' else 'not recorded'
            who = 'baseline' if in_baseline else 'ours'
            forward[(who, m.group(1), int(m.group(2) or 1), int(m.group(3)), kind)].append(float(m.group(5)))
        if m := re.match(r'vit_(tiny|small|base)_patch16_224(?: batch=(\d+))? threads=(\d): ([\d.]+) ms', line):
            size = {'tiny': 'Ti', 'small': 'S', 'base': 'B'}[m.group(1)]
            forward[('timm', size, int(m.group(2) or 1), int(m.group(3)), '')].append(float(m.group(4)))
        if m := re.match(r'(timm )?ViT w\d+ .* threads=2: ([\d.]+) ms/step, ([\d.]+) images/s', line):
            train['timm' if m.group(1) else 'baseline' if in_baseline else 'ours'].append(float(m.group(3)))
    return peaks, gemm, forward, train


def main(path):
    peaks, gemm, forward, train = parse(open(path).read())
    peak = median(peaks)
    print(f'FMA peak, one core: {peak:.1f} GFLOP/s (median of {len(peaks)} rounds)\n')
    print('SGEMM GFLOP/s, medians      ours 1t (of peak)   ours 2t (of 2 peaks)   torch 1t / 2t     numpy 1t / 2t')
    shapes = sorted({shape for (who, shape, _) in gemm if who == 'ours'}, key=lambda s: list(gemm).index(('ours', s, 1)))
    for shape in shapes:
        o1, o2 = median(gemm[('ours', shape, 1)]), median(gemm[('ours', shape, 2)])
        t1, t2 = median(gemm[('torch', shape, 1)]), median(gemm[('torch', shape, 2)])
        n1, n2 = median(gemm[('numpy', shape, 1)]), median(gemm[('numpy', shape, 2)])
        print(f'{shape:24s}  {o1:6.1f} ({o1 / peak:.2f})      {o2:6.1f} ({o2 / (2 * peak):.2f})        '
              f'{t1:6.1f} / {t2:6.1f}   {n1:6.1f} / {n2:6.1f}')
    if any(who == 'baseline' for (who, _, _) in gemm):
        print('\nBASELINE build, SGEMM GFLOP/s 1t / 2t: ' + ', '.join(
            f"{shape} {median(gemm[('baseline', shape, 1)]):.1f} / {median(gemm[('baseline', shape, 2)]):.1f}" for shape in shapes))
    print('\nViT forward ms, medians (ratio = ours / timm; baseline: the BASELINE build, recorded)')
    for batch in (1, 8):
        for size in ('Ti', 'S', 'B'):
            for threads in (1, 2):
                timm = median(forward[('timm', size, batch, threads, '')])
                cells = []
                for kind in ('recorded', 'not recorded'):
                    ours = forward.get(('ours', size, batch, threads, kind))
                    if ours:
                        cells.append(f'{kind} {median(ours):7.1f} ({median(ours) / timm:.2f}x)')
                base = forward.get(('baseline', size, batch, threads, 'recorded'))
                if base:
                    cells.append(f'baseline {median(base):7.1f} ({median(base) / timm:.2f}x)')
                print(f'ViT-{size}/16 batch {batch} threads {threads}: timm {timm:7.1f}   ' + '   '.join(cells))
    if train['ours'] and train['timm']:
        ours, timm = median(train['ours']), median(train['timm'])
        print(f'\ntraining, 2 threads: {ours:.1f} images/s against timm {timm:.1f} ({ours / timm:.2f}x)')
        if train['baseline']:
            base = median(train['baseline'])
            print(f'BASELINE build, training: {base:.1f} images/s ({base / timm:.2f}x timm; ours / baseline {ours / base:.2f})')


if __name__ == '__main__':
    main(sys.argv[1])
