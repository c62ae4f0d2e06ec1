#!/bin/sh
# The jobscripts on a real Slurm: tests/slurm/run-slurm-test.sh starts a one-node cluster on this
# machine (munged, slurmctld, slurmd; slurm-wlm and munge from apt-get when missing), runs the jobs
# and stops every daemon it started. Needs root (else skips, 77); about a minute.
command -v bash >/dev/null || { echo "SKIP: no bash"; exit 77; }
exec bash "${TOP_SRCDIR:-.}/tests/slurm/run-slurm-test.sh"
