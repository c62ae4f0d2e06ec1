# loss: sources and tests (owned by the loss work)
