"""Redraws docs/confusion.png and docs/attention.png from the shipped model (model/).

Usage: python3 Examples/patch-classify/redraw_shipped_figures.py RUN_DIR
       swift run -c release patch-classify --run-dir RUN_DIR --resume
       cp RUN_DIR/confusion.png RUN_DIR/attention.png Examples/patch-classify/docs/

It makes RUN_DIR/checkpoint/ from model/ with a trainer state that says all 3,744 steps of
the default run are done, so --resume trains nothing: it evaluates the shipped weights on
the same validation set and writes the figures. Its metrics.json must equal
model/metrics.json (it did on 2026-11-30: accuracy, confusion matrix, pointing games).
The state holds no training history (the shipped run's per-step losses were not kept), so
the curves.png it writes is empty: docs/curves.png cannot be redrawn this way.
"""
import json, os, shutil, sys
import numpy as np
from safetensors.numpy import save_file

here = os.path.dirname(os.path.abspath(__file__))
run = sys.argv[1]
checkpoint = os.path.join(run, 'checkpoint')
os.makedirs(checkpoint, exist_ok=True)
for name in ['model.safetensors', 'config.json']:
    shutil.copy(os.path.join(here, 'model', name), checkpoint)
metrics = json.load(open(os.path.join(here, 'model', 'metrics.json')))
steps = metrics['steps']
progress = {
    'step': steps, 'history': {'epochs': [], 'stepLosses': []}, 'trainSeconds': metrics['train_seconds'],
    'stepSeconds': steps * metrics['batch_size'] / metrics['images_per_second'],
    # The default TrainingConfiguration, which the shipped run used (README).
    'configuration': {'epochs': 12, 'batchSize': 64, 'learningRate': 0.0005, 'warmupEpochs': 0.5, 'weightDecay': 0.05,
                      'labelSmoothing': 0.1, 'clipNorm': 1, 'augment': True, 'seed': 0, 'checkpointEvery': 200},
}
save_file({'placeholder': np.zeros(1, dtype=np.float32)}, os.path.join(checkpoint, 'trainer_state.safetensors'),
          metadata={'progress': json.dumps(progress)})
print('wrote', checkpoint)
