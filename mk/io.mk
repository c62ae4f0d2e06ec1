# io: sources and tests (owned by the io work)
