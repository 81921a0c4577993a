# Stand-in for ghcr.io/mlflow/mlflow (deploy/compose.yaml's HRET_MLFLOW_IMAGE) where no image
# registry is reachable: mlflow from PyPI, the version deploy/local/mlflow.sh pins (build
# argument MLFLOW), in a virtualenv on PATH as `mlflow`, with `python` for compose's
# healthcheck. The wheels are downloaded on the host (deploy/local/test_compose.sh, through the
# host's pip and its trust store) into the context's wheels/ and installed offline here.
FROM debian:bookworm
ARG MLFLOW=mlflow
COPY wheels/ /tmp/wheels/
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/mlflow \
 && /opt/mlflow/bin/pip install -q --no-cache-dir --disable-pip-version-check --no-index \
      --find-links /tmp/wheels "$MLFLOW" \
 && rm -rf /tmp/wheels \
 && mkdir -p /mlflow && chown nobody:nogroup /mlflow
ENV PATH=/opt/mlflow/bin:$PATH
USER nobody
