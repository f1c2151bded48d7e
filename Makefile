# IPPC — the two commands a newcomer needs:  make run   and   make test
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
# Links in emails and statements of reasons point here: the port `make run` serves unless SITE_URL is set.
SITE_URL ?= http://127.0.0.1:$(PORT)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: run test lint format check audit worker beat drills bench-search bench-matching bench-ocr bench-pipeline bench-hamming bench-calibration bench-logo-diagnosis bench-logo train-logo clean help
.DEFAULT_GOAL := help

help:
	@echo "make run    - install, migrate, seed demo data and serve http://127.0.0.1:$(PORT) (PORT=8765 to change)"
	@echo "make test   - run the whole test suite (embedded SQLite default unless DATABASE_URL is set)"
	@echo "make lint   - ruff check + format check"
	@echo "make check  - Django system checks, migrations check, OpenAPI schema validation"
	@echo "make audit  - known vulnerabilities in the pinned dependencies (pip-audit)"

$(STAMP): requirements.txt requirements-nodeps.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version))."; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { echo "Could not create a virtualenv. On Debian/Ubuntu: sudo apt-get install python3-venv"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	@touch $@

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	SITE_URL='$(SITE_URL)' $(PY) manage.py seed_demo
	@echo "IPPC is at http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	SITE_URL='$(SITE_URL)' $(PY) manage.py runserver 127.0.0.1:$(PORT)

# The suite runs in one process per core, at most 4 (pytest-xdist; TEST_PROCESSES=0: in this one).
# The browser tests share one live demo site: one process.
TEST_PROCESSES ?= $(if $(findstring browser,$(PYTEST_ARGS)),0,auto)
test: $(STAMP)
	$(PY) -m pytest -n $(TEST_PROCESSES) --maxprocesses=4 $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check: $(STAMP)
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

worker: $(STAMP)
	$(VENV)/bin/celery -A ippc worker -Q ingest,match,backscan,notify,maintenance --loglevel=INFO

beat: $(STAMP)
	$(VENV)/bin/celery -A ippc beat --loglevel=INFO --schedule=var/celerybeat-schedule

# Known vulnerabilities in the pinned dependencies (pip-audit; needs PyPI's JSON API).
# AUDIT_ARGS=--strict also fails when a package could not be checked.
audit: $(STAMP)
	$(PY) .ci/audit.py $(AUDIT_ARGS)

# Failure drills with real processes (PostgreSQL + a Redis of their own + workers, beat, gunicorn):
# worker SIGKILL mid-batch, broker stopped, database cut, the embedded default under load.
drills: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} $(PY) bench/drills.py $(BENCH_ARGS)

# Catalogue benchmark on PostgreSQL (its own database ippc_bench): ingest throughput and search latency.
bench-search: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} $(PY) bench/search_bench.py $(BENCH_ARGS)

# Matching engine on a labelled dataset built from installable material (simple-icons, scikit-image,
# scikit-learn, Debian wallpapers): recall at fixed precision per transform, speed, vs naive baselines.
bench-matching: $(STAMP)
	$(PY) -m pip install --quiet -r bench/requirements.txt
	$(PY) bench/matching_bench.py $(BENCH_ARGS)

# Where logo recall is lost: the engine vs a perfect shortlist, looser gates and SIFT (same data).
bench-logo-diagnosis: $(STAMP)
	$(PY) -m pip install --quiet -r bench/requirements.txt
	$(PY) bench/logo_diagnosis.py $(BENCH_ARGS)

# Logo detection on marks never tuned on (the unseen split), against the engine of an earlier commit.
bench-logo: $(STAMP)
	$(PY) -m pip install --quiet -r bench/requirements.txt
	$(PY) bench/logo_bench.py $(BENCH_ARGS)

# Text in photos: word-mark recall, false detections and ms per photo, gated reader vs reading everything.
bench-ocr: $(STAMP)
	$(PY) -m pip install --quiet -r bench/requirements.txt
	$(PY) bench/ocr_bench.py $(BENCH_ARGS)

# Train the learned logo stage (training/, its own virtualenv with PyTorch; CPU is enough, about an
# hour on 2 cores): writes engine/models/logo_detector.onnx and logo_embedder.onnx (see LOGO_MODEL.md).
# TRAIN_ARGS="--device cuda" trains on a GPU (a PyTorch with CUDA); the default is the CPU.
train-logo:
	$(PYTHON) -m venv var/venv-train
	var/venv-train/bin/python -m pip install --quiet -r training/requirements.txt
	var/venv-train/bin/python training/logo_train.py $(TRAIN_ARGS)

# End to end: listings/s through PostgreSQL + Redis + real Celery workers, every signal on.
bench-pipeline: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} $(PY) bench/pipeline_bench.py $(BENCH_ARGS)

# The exact Hamming index against a NumPy brute-force scan, 1M and 10M hashes.
bench-hamming: $(STAMP)
	$(PY) bench/hamming_bench.py $(BENCH_ARGS)

# Per-brand calibration (issue 18): precision at equal recall on held-out decisions, global vs per-brand thresholds.
bench-calibration: $(STAMP)
	$(PY) bench/calibration_bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
