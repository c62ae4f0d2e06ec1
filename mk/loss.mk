# loss: sources and tests (owned by the loss work)
libkida_loss_a_SOURCES += src/losses.c src/losses.h src/optim.c src/optim.h
check_PROGRAMS += tests/test_losses_grad tests/test_optim
tests_test_losses_grad_SOURCES = tests/test_losses_grad.c
tests_test_optim_SOURCES = tests/test_optim.c
TESTS += tests/test_losses_grad tests/test_optim
check_PROGRAMS += tests/test_ada_blocks
tests_test_ada_blocks_SOURCES = tests/test_ada_blocks.c
TESTS += tests/test_ada_blocks
