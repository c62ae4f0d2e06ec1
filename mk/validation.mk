# validation: sources and tests (owned by the validation work)
