# slurm: job scripts and the local Slurm test (owned by the slurm work)
# check-jobscripts.sh: the jobscripts' logic with a stand-in kida and scontrol (seconds, no Slurm).
# slurm.sh: tests/slurm/run-slurm-test.sh, the jobscripts on a one-node Slurm cluster started on
# this machine (root; installs slurm-wlm and munge when missing; about a minute).
TESTS += tests/slurm/check-jobscripts.sh tests/slurm/slurm.sh
EXTRA_DIST += tests/slurm/slurm.sh tests/slurm/check-jobscripts.sh tests/slurm/run-slurm-test.sh
