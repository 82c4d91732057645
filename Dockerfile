# AIGNE Hub: the core and every plugin, installed from the wheels `make dist` builds (the same command
# tests/test_packaging.py builds and installs with pip). docs/install.md says how to run it.

# --- build: Node 20 for the console, Debian's Python 3.11 for uv; nothing of this stage is shipped ---------
FROM node:20-bookworm-slim AS build
# The build stage is thrown away, and Debian stable only moves its packages for fixes: no version pins.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends make python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make dist PYTHON=python3

# --- runtime: Python and the wheels, run as an unprivileged user with the data dir as a volume --------------
FROM python:3.13-slim
COPY --from=build /src/dist/*.whl /tmp/wheels/
RUN pip install --no-cache-dir --disable-pip-version-check /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels \
    && groupadd --system --gid 10001 aigne-hub \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home aigne-hub \
    && mkdir /data \
    && chown aigne-hub:aigne-hub /data
ENV AIGNE_HUB_DATA_DIR=/data \
    AIGNE_HUB_HOST=0.0.0.0 \
    AIGNE_HUB_PORT=8090 \
    AIGNE_HUB_LOG_FORMAT=json \
    PYTHONDONTWRITEBYTECODE=1
VOLUME ["/data"]
USER 10001:10001
WORKDIR /data
EXPOSE 8090
# Ready = serving and its database answering (/-/ready gives 503 otherwise).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['AIGNE_HUB_PORT'] + os.environ.get('AIGNE_HUB_MOUNT_PATH', '').rstrip('/') + '/-/ready', timeout=4)"]
CMD ["aigne-hub", "serve"]
