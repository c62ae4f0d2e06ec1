# prep: sources and tests (owned by the prep work)
