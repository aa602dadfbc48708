#!/usr/bin/env bash
# The recipe, end to end. Run it in a folder that holds the pretrained model (pretrained/), the
# fine-tuned ones (task-a/, task-b/, task-c/, Hugging Face folders) and your tasks.py;
# MATS is the path of this repository's checkout, built (npm ci && npm run build).
set -euo pipefail
cp "$MATS"/examples/torch/{mats_statistics.py,mats_safetensors.py} .
cp "$MATS"/examples/torch/recipe/{estimate.py,evaluate.py,regmean.yaml,mats-kfac.yaml} .
mats() { node "$MATS/packages/merge/bin/mats.js" "$@"; }

python estimate.py task-a task-b task-c
mats merge regmean.yaml
mats merge mats-kfac.yaml
for merged in merged-regmean merged-mats-kfac; do cp task-a/config.json "$merged"/; done
python evaluate.py --tasks task-a task-b task-c --models task-a task-b task-c merged-regmean merged-mats-kfac
