# loss: the loss terms and their gradients, and the Adam step (src/loss/); and their tests. Its
# own library: libkida_model.a's CFLAGS would change the code generated for these files.
libkida_loss_a_SOURCES += src/loss/losses.c src/loss/losses.h src/loss/optim.c src/loss/optim.h
check_PROGRAMS += tests/loss/test_losses_grad tests/loss/test_optim
tests_loss_test_losses_grad_SOURCES = tests/loss/test_losses_grad.c
tests_loss_test_optim_SOURCES = tests/loss/test_optim.c
TESTS += tests/loss/test_losses_grad tests/loss/test_optim
check_PROGRAMS += tests/loss/test_ada_blocks
tests_loss_test_ada_blocks_SOURCES = tests/loss/test_ada_blocks.c
TESTS += tests/loss/test_ada_blocks
EXTRA_DIST += src/loss/README.md
