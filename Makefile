# Set-up and test commands for a fresh machine. `make lab` and `make test` are all a newcomer needs.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: setup lab test test-ray bench bench-ray notebooks chromium

# torch==2.13.0 goes first, on its own: that pin takes the local CPU wheel, while letting pip
# resolve our torch range would download a CUDA build of several GB.
# The side panel's build (its package.json names the new bundle) is copied in at install: a
# rebuilt panel installs again.
$(VENV)/.installed: pyproject.toml jupyter_syft/labextension/package.json
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test,lab,ray]'
	touch $@

setup: $(VENV)/.installed

# The Part 01 tutorial; TUTORIAL=zh opens the Chinese one.
TUTORIAL ?= en
# Jupyter refuses to run as root unless told; containers and fresh machines often are root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
lab: setup
	$(VENV)/bin/jupyter lab $(ALLOW_ROOT) notebooks/part01-basic-tools-$(TUTORIAL).ipynb

# Re-run the tutorials and store their outputs (what nbval then checks).
notebooks: setup
	$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace notebooks/*.ipynb

# The browser tests drive Debian's chromium (never a downloaded browser); install it if missing.
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium >/dev/null 2>&1 || \
	    { apt-get update -q && apt-get install -y -q chromium; }; \
	  else echo "the browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

test: setup chromium
	$(PY) -m pytest
	$(MAKE) test-ray

# Ray binds the machine's own address by default: the Ray tests and benchmark run in a network
# namespace of their own with only loopback (as root `unshare -n`; otherwise a user namespace).
NETNS := $(if $(filter 0,$(shell id -u)),unshare -n,unshare -rn)
test-ray: setup
	$(NETNS) sh -c 'ip link set lo up && $(PY) -m pytest -o addopts="" -p no:cacheprovider tests/ray_cluster'

bench: setup
	$(PY) bench/bench_core.py
	$(PY) bench/bench_extension.py
	$(PY) bench/bench_federated.py
	$(PY) bench/bench_part07.py

bench-ray: setup
	$(NETNS) sh -c 'ip link set lo up && $(PY) bench/bench_ray.py'
