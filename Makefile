# Set-up and everyday commands. Only Python 3.11 is needed beforehand: uv comes from PyPI into
# .tools/, and every dependency from uv.lock into .venv/.
UV_VERSION := 0.13.9
PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never
export RUNTIME__DLTHUB_TELEMETRY := false
export DO_NOT_TRACK := 1
# The Dagster instance: its dagster.yaml is committed, its run storage is not.
export DAGSTER_HOME ?= $(CURDIR)/dagster_home

SIZE ?= demo
SEED ?= 42
# An organisation without some vendors: no-openai, no-pagerduty, no-billing, empty-billing...
PRESET ?= full
# The publication `make dashboard` serves (docs/dashboard.md), and its port.
PUBLICATION ?= .data/demo.serving.duckdb
PORT ?= 8501

.PHONY: install spark demo test lint unit dev dashboard docs benchmark clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

# Bytecode compiled once at install: with PYTHONDONTWRITEBYTECODE set (as on some CI images)
# every process would otherwise compile dlt, dagster and dbt from source on each import.
.venv/.installed: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --all-extras --compile-bytecode --python "$(PYTHON)"
	touch $@

# The local Spark of the tests (pyspark's jars and launch scripts), from uv.lock's group
# spark-server, apart from .venv: Great Expectations imports pyspark wherever it finds it. uv
# caches the wheel it builds from pyspark's source archive, so a second install is quick.
SPARK_HOME := .tools/spark
$(SPARK_HOME)/.installed: uv.lock | $(UV)
	$(UV) export --frozen --only-group spark-server --no-hashes --no-emit-project \
		--output-file .tools/spark-requirements.txt --quiet
	$(UV) pip install --quiet --python "$(PYTHON)" --target $(SPARK_HOME) \
		--requirement .tools/spark-requirements.txt
	touch $@

spark: $(SPARK_HOME)/.installed

# Debian's Chromium and ChromeDriver for the dashboard's browser tests (tests/dashboard), from
# Debian's registry when missing (as root, else through sudo): a browser build downloaded at
# run time is not an option.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
$(CHROMIUM):
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver

# The dbt manifest the Dagster definitions are built from, parsed when missing or stale.
install: .venv/.installed
	.venv/bin/python -m pipelines prepare

## make demo: simulate an organisation, serve its vendor APIs, run the Dagster job (a line per
## source load, dbt stage and kind of check; VERBOSE=1 for Dagster's whole event stream),
## summarise.
demo: install
	.venv/bin/python -m org_simulator demo --size $(SIZE) --seed $(SEED) --preset $(PRESET)$(if $(VERBOSE), --verbose)

## make test: lint (ruff for Python, sqlfluff with the dbt templater for SQL, and no function
## one warehouse engine lacks in a model), then the whole test suite.
test: install $(CHROMIUM) spark lint unit

lint: install
	.venv/bin/ruff check pipelines simulator tests benchmarks
	.venv/bin/ruff format --check pipelines simulator tests benchmarks
	.venv/bin/sqlfluff lint dbt_project/models dbt_project/tests --processes 2
	.venv/bin/python -m pipelines.transform.portable_sql

# Two workers: the CI machine's cores. Each slow shared fixture (the scheduled runs, the
# incremental comparison, the built organisation, dagster dev) stays on one worker
# (tests/xdist_groups.py).
TEST_WORKERS ?= 2

unit: install $(CHROMIUM) spark
	.venv/bin/pytest -q -n $(TEST_WORKERS) --dist loadgroup

## make dev: the Dagster UI on http://127.0.0.1:3000 (sources from SOURCES__* variables), on the
## instance in dagster_home/: runs queue for the duckdb_warehouse pool (docs/operations_ui.md).
# The pool's limit is stored when the pool is first seen: set it before the daemon's first
# pass, or runs already queued then (a backfill's, say) all start together.
dev: install
	.venv/bin/dagster instance concurrency set duckdb_warehouse 1
	.venv/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

## make dashboard: the dashboard on http://127.0.0.1:8501, reading the demo's publication
## (PUBLICATION=path for another, PORT=... for another port; docs/dashboard.md).
dashboard: install
	.venv/bin/python -m pipelines dashboard --publication $(PUBLICATION) --port $(PORT)

## make docs: where the warehouse's dbt docs are (AOW_DUCKDB_PATH, else warehouse.duckdb): a
## page that opens from disk, generated when missing; PORT=8080 also serves them on 127.0.0.1.
docs: install
	.venv/bin/python -m pipelines docs $(if $(PORT),--serve $(PORT))

## make benchmark SIZE=medium: generation, then a full load of every source (rows/s, memory).
benchmark: install
	.venv/bin/python -m benchmarks.generate_org --size $(SIZE)
	.venv/bin/python -m benchmarks.ingest --size $(SIZE)

clean:
	rm -rf .data dbt_project/target dbt_project/logs dbt_project/org_seeds
	git clean -fdXq dagster_home
