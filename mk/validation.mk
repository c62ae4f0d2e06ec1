# validation: sources and tests (owned by the validation work)
# The C model + losses + Adam against the PyTorch reference validation/torch_kida.py
# (paper-shape variant: validation/torch_ref_paper.sh, not run by make check).
check_PROGRAMS += tests/test_torch_ref
tests_test_torch_ref_SOURCES = tests/test_torch_ref.c
TESTS += tests/torch_ref.sh
EXTRA_DIST += tests/torch_ref.sh
