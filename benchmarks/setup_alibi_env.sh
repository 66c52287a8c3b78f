#!/usr/bin/env bash
# Create the separate virtualenv that alibi's CounterfactualRL baseline runs in.
#
# alibi >= 0.9.5 is BSL-1.1 licensed and pins numpy < 2, so it never sits next to the core
# stack (numpy >= 2): it gets its own virtualenv, and counterfactuals/baselines/alibi_cfrl.py
# runs it as a subprocess on data exported to a temporary folder (Parquet + JSON, no pickle).
#
# Usage: bash benchmarks/setup_alibi_env.sh            (creates ./.venv-alibi)
#        LEVERS_ALIBI_ENV=/path/to/env bash benchmarks/setup_alibi_env.sh
#        PYTHON=python3.11 bash benchmarks/setup_alibi_env.sh
# Then:  .venv/bin/python benchmarks/compare_engines.py --alibi ...
#
# torch is pinned to 2.13.0, the CPU build (found through PIP_FIND_LINKS when it is set,
# e.g. a local wheel folder); alibi's torch extra accepts it and it runs with numpy 1.26.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENV="${LEVERS_ALIBI_ENV:-$ROOT/.venv-alibi}"
PYTHON="${PYTHON:-python3.11}"
PACKAGES=(
    "alibi[torch]>=0.9.5,<0.10"
    "torch==2.13.0"
    "numpy>=1.24,<2"
    "pandas>=2,<2.3"
    "pyarrow>=14,<26"
    "click>=8,<9"  # spacy (imported by alibi) needs it; typer-slim no longer brings it
)
LINKS=()
if [[ -n "${PIP_FIND_LINKS:-}" ]]; then
    LINKS=(--find-links "$PIP_FIND_LINKS")
fi

echo "alibi env: $ENV (python: $PYTHON)"
if command -v uv >/dev/null 2>&1; then
    uv venv --python "$PYTHON" "$ENV"
    uv pip install --python "$ENV/bin/python" "${LINKS[@]}" "${PACKAGES[@]}"
else
    echo "uv not found: using python -m venv and pip"
    "$PYTHON" -m venv "$ENV"
    "$ENV/bin/python" -m pip install --quiet --upgrade pip
    "$ENV/bin/python" -m pip install "${LINKS[@]}" "${PACKAGES[@]}"
fi

"$ENV/bin/python" - <<'EOF'
import alibi
import numpy
import torch
from alibi.explainers import CounterfactualRL  # noqa: F401  (the torch backend loads lazily)
from alibi.explainers.backends.pytorch import cfrl_base  # noqa: F401

print(f"ok: alibi {alibi.__version__}, torch {torch.__version__}, numpy {numpy.__version__}")
EOF
