"""Training on several devices and machines, with MXNet's kvstore.

:mod:`.parallel` splits every minibatch across this process's devices and,
in a kvstore job, gives the process its share of the rows; :mod:`.kvstore`
is a worker's side of a ``dist_sync`` / ``dist_async`` job (its rank, the
job's loss, a watchdog); :mod:`.local` starts such a job on this machine and
:mod:`.cluster` on several; :mod:`.job` trains from a job file;
:mod:`.processes` bounds the job's processes.
"""
