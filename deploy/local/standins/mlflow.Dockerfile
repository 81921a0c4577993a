# Stand-in for ghcr.io/mlflow/mlflow (deploy/compose.yaml's HRET_MLFLOW_IMAGE) where no image
# registry is reachable: mlflow from PyPI, the version deploy/local/mlflow.sh pins (build
# argument MLFLOW), in a virtualenv on PATH as `mlflow`, with `python` for compose's
# healthcheck. Built with --network host (PyPI).
FROM debian:bookworm
ARG MLFLOW=mlflow
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python-is-python3 \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/mlflow \
 && /opt/mlflow/bin/pip install -q --no-cache-dir --disable-pip-version-check "$MLFLOW" \
 && mkdir -p /mlflow && chown nobody:nogroup /mlflow
ENV PATH=/opt/mlflow/bin:$PATH
USER nobody
