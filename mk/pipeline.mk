# pipeline: the subcommands and what they share (fit, train loop, anchors, inference, outputs)
kida_SOURCES += src/commands.c src/commands.h
libkida_pipeline_a_SOURCES += src/annotate.c src/predict.c src/evaluate.c \
	src/fit.c src/fit.h src/trainer.c src/trainer.h src/infer.c src/infer.h src/anchors.c src/anchors.h \
	src/dataset.c src/dataset.h src/modelfile.c src/modelfile.h src/output.c src/output_list.c src/output.h \
	src/sources.c src/sources.h \
	src/signals.c src/signals.h
TESTS += tests/annotate_small.sh tests/resume.sh tests/bad_inputs_annotate.sh tests/ranks.sh tests/configs.sh tests/multi_files.sh
EXTRA_DIST += tests/annotate_small.sh tests/resume.sh tests/bad_inputs_annotate.sh tests/ranks.sh tests/configs.sh tests/multi_files.sh tests/lib.sh tests/small.conf
