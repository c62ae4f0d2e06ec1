# python: the Python package (python/, pip-installable as `kida`) that runs the kida binary on
# AnnData objects; its test makes a venv under the build folder (tests/python/venv, not in git)
# and pip installs anndata and the package there (skips without PyPI).
TESTS += tests/python/wrapper.sh
EXTRA_DIST += tests/python/wrapper.sh python/pyproject.toml python/README.md python/kida/__init__.py python/kida/_run.py
clean-local:
	rm -rf tests/python/venv
