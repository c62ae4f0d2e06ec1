# e2e: the end-to-end tests (tests/e2e/): shell scripts that run the kida binary on the bundled
# data through tests/e2e/lib.sh (and the small network of tests/e2e/small.conf)
TESTS += tests/e2e/annotate_small.sh tests/e2e/resume.sh tests/e2e/bad_inputs_annotate.sh \
	tests/e2e/ranks.sh tests/e2e/configs.sh tests/e2e/multi_files.sh \
	tests/e2e/test_explain_cmd.sh tests/e2e/test_embed_eval.sh \
	tests/e2e/test_genescore_check.sh tests/e2e/test_genescore_bad.sh \
	tests/e2e/guard_options.sh tests/e2e/guard_files.sh tests/e2e/guard_nonfinite.sh tests/e2e/user_inputs.sh tests/e2e/gene_names.sh \
	tests/e2e/outputs.sh tests/e2e/cli_ux.sh tests/e2e/install.sh tests/e2e/guard_checkpoint.sh tests/e2e/teacher_reuse.sh \
	tests/e2e/precision.sh tests/e2e/weight_average.sh tests/e2e/spatial.sh
EXTRA_DIST += tests/e2e/annotate_small.sh tests/e2e/resume.sh tests/e2e/bad_inputs_annotate.sh \
	tests/e2e/ranks.sh tests/e2e/configs.sh tests/e2e/multi_files.sh \
	tests/e2e/test_explain_cmd.sh tests/e2e/test_embed_eval.sh \
	tests/e2e/test_genescore_check.sh tests/e2e/test_genescore_bad.sh \
	tests/e2e/guard_options.sh tests/e2e/guard_files.sh tests/e2e/guard_nonfinite.sh \
	tests/e2e/lib.sh tests/e2e/small.conf tests/e2e/ranks.conf
EXTRA_DIST += tests/e2e/user_inputs.sh tests/e2e/gene_names.sh tests/e2e/outputs.sh \
	tests/e2e/cli_ux.sh tests/e2e/install.sh tests/e2e/guard_checkpoint.sh tests/e2e/teacher_reuse.sh \
	tests/e2e/precision.sh tests/e2e/weight_average.sh tests/e2e/spatial.sh
