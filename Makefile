# The two commands: `make run` and `make test`. Both set up what is missing first.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup run test test-fast lint bench weights reader eval clean screenshots strings

setup:
	@VENV=$(VENV) ./scripts/setup.sh

run: setup
	$(BIN)/kiosk run --content content/demo

test:
	@VENV=$(VENV) KIOSK_SETUP_TESTS=1 ./scripts/setup.sh
	$(BIN)/python -m pytest -q -ra
	$(BIN)/ruff check kiosk tests bench deploy scripts
	$(BIN)/mypy

# The inner loop: everything but the tests marked slow (power cuts, soak, speech end to end),
# in parallel: one worker more than there are cores, as many tests wait on real-time audio
WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
test-fast:
	@VENV=$(VENV) KIOSK_SETUP_TESTS=1 ./scripts/setup.sh
	$(BIN)/python -m pytest -q -ra -m "not slow" -n $(WORKERS)
	$(BIN)/ruff check kiosk tests bench deploy scripts

lint: setup
	$(BIN)/ruff check kiosk tests bench deploy scripts
	$(BIN)/mypy

# The answerer on the held-out sets (figures only: never tune on them)
eval: setup
	$(BIN)/kiosk eval --content content/demo tests/data/dev/demo-heldout.yaml
	$(BIN)/kiosk eval --content tests/data/packs/fr-en-small tests/data/dev/crosslang-heldout.yaml
	$(BIN)/kiosk eval --content tests/data/heldout/sculpture-es-en/pack tests/data/heldout/sculpture-es-en/questions.yaml
	$(BIN)/kiosk eval --content tests/data/heldout/local-history-fr/pack tests/data/heldout/local-history-fr/questions.yaml

bench: setup
	$(BIN)/python bench/qa.py

# The answer scorer's weights, from kiosk/qa/train/recipe.toml (deterministic; ~8 min here)
weights: setup
	$(BIN)/python -m kiosk.qa.train --encoders hashing
	$(BIN)/python -m kiosk.qa.train --encoders use-multilingual-v3-int8
	$(BIN)/python -m kiosk.qa.train --encoders e5-multilingual-small-q4
	$(BIN)/python -m kiosk.qa.train --encoders use-multilingual-v3-int8,e5-multilingual-small-q4

# The e5 reading adapter (kiosk/qa/adapters/e5-reader.npz; a developer's tool, ~3 min here).
# PyTorch 2.13.0 goes into .cache/reader-torch, not the venv: onnxruntime-extensions imports
# torch whenever it can, which would add hundreds of MB to every kiosk process. Then pin the
# adapter's sha256 in kiosk/qa/e5_convert.py, reinstall e5, update models/catalog.toml and run
# `make weights`.
READER_TORCH := .cache/reader-torch
reader: setup
	$(BIN)/pip install -q --target $(READER_TORCH) torch==2.13.0
	PYTHONPATH=$(READER_TORCH) $(BIN)/python scripts/train_reader.py

# The interface's gettext catalogs (kiosk/locale): extract the marked messages, update every
# kiosk.po, compile the kiosk.mo files. A new language: `make strings ADD=de`, translate
# kiosk/locale/de/LC_MESSAGES/kiosk.po (Poedit, Weblate…), then `make strings` again.
strings: setup
	$(BIN)/python scripts/strings.py $(if $(ADD),--add $(ADD))

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Screenshots of every screen (en, fr; landscape 800×480, portrait 480×800) → docs/screenshots/
screenshots: setup
	$(BIN)/python scripts/screenshots.py

# 10,000 simulated visits through the real app (offscreen), frame times while turns run, cold start
soak: setup
	$(BIN)/python bench/soak.py

# arm64 smoke test without hardware: an arm64 Debian root under qemu-user (as root; slow, not
# part of `make test`; the root is cached in ~/.cache/kiosk-ci). See deploy/ARM64.md.
test-arm64:
	./deploy/test-arm64.sh

# The Ansible playbook (deploy/ansible/site.yml) for real against a Debian 12 chroot: two runs
# (the second changed=0), --check, a room change (only the settings task + its handler). As root;
# the base tarball is cached in ~/.cache/kiosk-ci. See deploy/ansible/README.md.
test-ansible:
	./deploy/ansible/test-playbook.sh

# deploy/install.sh for real in fresh Debian 12 chroots: install, a second run that changes
# nothing, doctor + a question as the kiosk user, --uninstall/--purge; then deploy/wheelhouse.sh
# and an --offline install with no network (unshare -n). As root; prints each step's time.
# Caches (base tarball, .debs, pip) in ~/.cache/kiosk-ci: ~10 min warm. See deploy/INSTALL.md.
test-deploy:
	./deploy/test-install.sh
