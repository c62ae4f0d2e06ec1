# KIDA_CHECK_CUDA: --with-cuda[=DIR] and --with-nccl[=DIR]; default "check".
# Sets have_cuda/have_nccl, NVCC, CUDA_CFLAGS, CUDA_LIBS, NCCL_LIBS and the HAVE_CUDA/HAVE_NCCL
# conditionals. A value of "yes" or a directory that is not usable is an error.
AC_DEFUN([KIDA_CHECK_CUDA], [
AC_ARG_WITH([cuda], [AS_HELP_STRING([--with-cuda@<:@=DIR@:>@], [CUDA toolkit (default: check /usr/local/cuda and PATH)])],
  [], [with_cuda=check])
AC_ARG_WITH([nccl], [AS_HELP_STRING([--with-nccl@<:@=DIR@:>@], [NCCL (default: check, needs CUDA)])],
  [], [with_nccl=check])
AC_ARG_VAR([CUDA_ARCHS], [CUDA architectures to build for (default: 80 86 90)])
: ${CUDA_ARCHS:="80 86 90"}
CUDA_GENCODE=
for a in $CUDA_ARCHS; do CUDA_GENCODE="$CUDA_GENCODE -gencode arch=compute_$a,code=sm_$a"; done
AC_SUBST([CUDA_GENCODE])
have_cuda=no; have_nccl=no
AS_IF([test "$with_cuda" != no], [
  cuda_dir=/usr/local/cuda
  AS_CASE([$with_cuda], [yes|check], [], [cuda_dir=$with_cuda])
  AC_PATH_PROG([NVCC], [nvcc], [], [$cuda_dir/bin$PATH_SEPARATOR$PATH])
  AS_IF([test -n "$NVCC"], [
    cuda_root=`dirname \`dirname $NVCC\``
    CUDA_CFLAGS="-I$cuda_root/include"
    CUDA_LIBS="-L$cuda_root/lib64 -Wl,-rpath,$cuda_root/lib64 -lcublas -lcudart -lstdc++"
    save_LIBS=$LIBS; LIBS="$CUDA_LIBS $LIBS"
    AC_MSG_CHECKING([for cuBLAS and the CUDA runtime])
    AC_LINK_IFELSE([AC_LANG_PROGRAM([[void *cublasCreate_v2(void *); int cudaGetDeviceCount(int *);]],
                                    [[cublasCreate_v2(0); cudaGetDeviceCount(0);]])],
      [have_cuda=yes], [have_cuda=no])
    AC_MSG_RESULT([$have_cuda])
    LIBS=$save_LIBS])
  AS_IF([test "$have_cuda" = no && test "$with_cuda" != check],
    [AC_MSG_ERROR([--with-cuda was given but nvcc/cuBLAS were not found under $cuda_dir. HINT: install the CUDA toolkit or pass --with-cuda=DIR])])
])
AS_IF([test "$have_cuda" = yes && test "$with_nccl" != no], [
  nccl_dir=$cuda_root
  AS_CASE([$with_nccl], [yes|check], [], [nccl_dir=$with_nccl])
  save_LIBS=$LIBS; save_CPPFLAGS=$CPPFLAGS
  NCCL_CFLAGS="-I$nccl_dir/include"
  NCCL_LIBS="-L$nccl_dir/lib64 -L$nccl_dir/lib -Wl,-rpath,$nccl_dir/lib64 -lnccl"
  CPPFLAGS="$CPPFLAGS $CUDA_CFLAGS $NCCL_CFLAGS"; LIBS="$NCCL_LIBS $CUDA_LIBS $LIBS"
  AC_MSG_CHECKING([for NCCL])
  AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <nccl.h>]], [[ncclUniqueId id; ncclGetUniqueId(&id);]])],
    [have_nccl=yes], [have_nccl=no])
  AC_MSG_RESULT([$have_nccl])
  LIBS=$save_LIBS; CPPFLAGS=$save_CPPFLAGS
])
AS_IF([test "$have_nccl" = no && test "$with_nccl" != check && test "$with_nccl" != no],
  [AC_MSG_ERROR([--with-nccl was given but NCCL was not found. HINT: install NCCL (libnccl-dev) or pass --with-nccl=DIR])])
AS_IF([test "$have_cuda" = yes], [AC_DEFINE([HAVE_CUDA], [1], [CUDA and cuBLAS found])])
AS_IF([test "$have_nccl" = yes], [AC_DEFINE([HAVE_NCCL], [1], [NCCL found])], [NCCL_CFLAGS=; NCCL_LIBS=])
AS_IF([test "$have_cuda" != yes], [CUDA_CFLAGS=; CUDA_LIBS=])
AC_SUBST([CUDA_CFLAGS]) AC_SUBST([CUDA_LIBS]) AC_SUBST([NCCL_CFLAGS]) AC_SUBST([NCCL_LIBS])
AM_CONDITIONAL([HAVE_CUDA], [test "$have_cuda" = yes])
AM_CONDITIONAL([HAVE_NCCL], [test "$have_nccl" = yes])
])
