# cmd: the command line (src/cmd/): start-up and dispatch (cli, commands) and one file per
# subcommand: annotate, predict, evaluate, explain, genescore, report (kida inspect is in commands.c; of a model file,
# inspect_model); the outputs annotate and predict share and their end-of-run summary (outputs, summary)
libkida_cmd_a_SOURCES += src/cmd/cli.c src/cmd/cli.h src/cmd/commands.c src/cmd/commands.h \
	src/cmd/annotate.c src/cmd/predict.c src/cmd/evaluate.c src/cmd/explain.c \
	src/cmd/genescore.c src/cmd/report.c src/cmd/outputs.h src/cmd/outputs.c src/cmd/summary.c \
	src/cmd/inspect_model.c src/cmd/inspect_model.h
# kida report runs validation/report.py: from the source tree, or installed here
kidareportdir = $(pkgdatadir)/validation
dist_kidareport_DATA = validation/report.py
EXTRA_DIST += src/cmd/README.md
