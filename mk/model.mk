# model: sources and tests (owned by the model work)
