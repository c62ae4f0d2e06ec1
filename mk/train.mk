# train: what the subcommands share (src/train/): reading the inputs into a dataset, the teacher /
# anchors / student fit, the training loop, inference, the model file and the outputs
libkida_train_a_SOURCES += src/train/fit.c src/train/fit.h src/train/trainer.c src/train/trainer.h \
	src/train/infer.c src/train/infer.h src/train/anchors.c src/train/anchors.h src/train/teacher_in.c src/train/teacher_in.h src/train/oor.c src/train/oor.h \
	src/train/dataset.c src/train/dataset.h src/train/modelfile.c src/train/modelfile.h \
	src/train/output.c src/train/output_list.c src/train/output_labels.c src/train/output_tsv.c src/train/output.h \
	src/train/sources.c src/train/sources.h src/train/gradreduce.c src/train/gradreduce.h \
	src/train/ckptdir.c src/train/ckptdir.h src/train/fingerprint.c src/train/fingerprint.h \
	src/train/preflight.c src/train/preflight.h src/train/xchoice.c src/train/xchoice.h \
	src/train/varnames.c src/train/varnames.h
EXTRA_DIST += src/train/README.md
check_PROGRAMS += tests/train/test_oor
tests_train_test_oor_SOURCES = tests/train/test_oor.c
TESTS += tests/train/test_oor
