# cuda: sources and tests (owned by the cuda work)
