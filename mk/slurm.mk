# slurm: job scripts and the local Slurm test (owned by the slurm work)
