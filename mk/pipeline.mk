# pipeline: sources and tests (owned by the pipeline work)
