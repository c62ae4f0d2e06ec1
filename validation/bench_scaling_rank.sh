#!/bin/sh
# bench_scaling_rank.sh DIR CMD [ARGS...]: runs one MPI rank's CMD under GNU time and writes that
# rank's own peak memory and CPU time to DIR/time.<rank> (a plain `time mpirun` would only see
# the largest child). Used by validation/bench_scaling.sh as `mpirun -np N bench_scaling_rank.sh
# DIR kida ...`. The rank comes from Open MPI, MPICH/PMI or Slurm.
# Exit status 75 (kida stopped by KIDA_STOP_AFTER_STEPS, checkpoint written) is reported as 0 so
# that mpirun does not kill the other ranks before they write their records.
dir=$1
shift
r=${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-${SLURM_PROCID:-0}}}
/usr/bin/time -f "rank $r maxrss_kb %M user_s %U sys_s %S wall_s %e" -o "$dir/time.$r" "$@"
rc=$?
[ "$rc" -eq 75 ] && rc=0
exit "$rc"
