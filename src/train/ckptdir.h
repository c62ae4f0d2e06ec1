// ckptdir: the checkpoint folder of a run (<out>.ckpt or --checkpoint-dir). Rank 0 creates it,
// locks it (flock on <dir>/.lock: a second live run with the same folder is refused), removes the
// temporaries killed runs left in it, and, when the run fails before it holds a checkpoint,
// removes what it created (an empty folder is not left behind).
#ifndef KIDA_CKPTDIR_H
#define KIDA_CKPTDIR_H

// Creates (if needed) and locks dir; `option` names where dir came from, for messages. Call on
// rank 0 only, once per process. FATAL when the folder cannot be made or another run holds it.
void ckptdir_open(const char *dir, const char *option);
// After a successful run: removes ckpt_path, the lock and the folder when nothing else is in it.
void ckptdir_finish(const char *ckpt_path);
#endif
