"""Execute notebooks headless, with a real kernel running this interpreter.

``python -m tools.notebooks [PATH ...]`` (what ``make notebooks`` runs)
re-executes every notebook it is given, or every ``*.ipynb`` in a folder it
is given (default ``notebooks/``), and writes the fresh outputs back in
place. The test suite calls :func:`execute_notebook` and checks the outputs
without writing anything.

The kernel is always this interpreter (``sys.executable``) with ipykernel,
whatever kernel the notebook's metadata names: the outputs must come from
the environment under test, not from some other Python that happens to be
registered as ``python3``. The kernel starts in the notebook's folder with
the checkout on its ``PYTHONPATH`` (as ``make lab`` does), so a notebook
imports ``benchmarks`` without editing ``sys.path``. Needs the ``notebook``
extra (nbclient, nbformat, ipykernel); they are imported only when a
notebook is run.
"""

import argparse
import os
import stat
import sys
import tempfile
import time
from pathlib import Path

from d2l_rnn._util.files import replace_atomically

__all__ = ["DEFAULT_TIMEOUT", "find_notebooks", "execute_notebook",
           "refresh_notebook", "main"]

# The source checkout: the kernel imports `benchmarks` from here.
CHECKOUT = Path(__file__).resolve().parent.parent

# Seconds per cell. Generous on purpose: a hung kernel must fail the run,
# but a cell that is merely slow on a busy 2-core machine must not.
DEFAULT_TIMEOUT = 900


def find_notebooks(paths):
    """Return the notebooks named by ``paths``, in a stable order.

    Parameters
    ----------
    paths : iterable of str or os.PathLike
        Notebook files, or folders whose ``*.ipynb`` files are all taken
        (so a notebook added to the folder is picked up without any edit).

    Raises
    ------
    FileNotFoundError
        If a path does not exist, is not a notebook, or a folder has none.
    """
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            in_dir = sorted(path.glob("*.ipynb"))
            if not in_dir:
                raise FileNotFoundError("no notebooks (*.ipynb) in %s" % path)
            found.extend(in_dir)
        elif path.is_file() and path.suffix == ".ipynb":
            found.append(path)
        else:
            raise FileNotFoundError(
                "%s is neither a .ipynb file nor a folder; pass notebooks or "
                "the folder that holds them" % path)
    return found


def execute_notebook(path, timeout=DEFAULT_TIMEOUT, env=None):
    """Run every cell of the notebook at ``path`` in a fresh kernel.

    The kernel starts in the notebook's folder, so relative paths in it
    work as they do in Jupyter.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.ipynb`` file; it is only read.
    timeout : int
        Seconds any single cell may take.
    env : dict, optional
        Variables added to this process's environment for the kernel
        (besides :data:`CHECKOUT` put first on ``PYTHONPATH``).

    Returns
    -------
    nbformat.NotebookNode
        The notebook with the new outputs.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        If a cell raises; the message holds the cell and its traceback.
    nbclient.exceptions.CellTimeoutError
        If a cell runs longer than ``timeout``.
    """
    import nbformat
    import zmq
    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    # Keep the notebook's own kernel name so its metadata survives a refresh,
    # but make that name mean this interpreter, in a private spec folder.
    name = nb.metadata.get("kernelspec", {}).get("name") or "python3"
    kernel_env = dict(os.environ, **(env or {}))
    kernel_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(CHECKOUT), kernel_env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryDirectory(prefix="d2l_rnn_kernels_") as kernels:
        write_kernel_spec(Path(kernels) / name)
        specs = KernelSpecManager(kernel_dirs=[kernels], ensure_native_kernel=False)
        # Encrypt the kernel's sockets where pyzmq can (CurveZMQ): even on
        # 127.0.0.1 other local users could otherwise read the traffic.
        km = AsyncKernelManager(
            kernel_name=name, kernel_spec_manager=specs,
            transport_encryption="auto" if zmq.has("curve") else "disabled")
        client = NotebookClient(
            nb, km=km, timeout=timeout, record_timing=False,
            resources={"metadata": {"path": str(path.parent.resolve())}})
        # cleanup_kc: we own the kernel manager, so the client must shut the
        # kernel down itself, error or not.
        client.execute(cleanup_kc=True, env=kernel_env)
    return nb


def refresh_notebook(path, timeout=DEFAULT_TIMEOUT, env=None):
    """Execute the notebook at ``path`` and write it back with its new outputs.

    The file is replaced only after every cell has run, and atomically
    (:func:`~d2l_rnn._util.files.replace_atomically`), so a failing or
    interrupted run leaves the committed notebook exactly as it was.

    Returns
    -------
    nbformat.NotebookNode
        The executed notebook, as written.
    """
    import nbformat

    path = Path(path)
    nb = execute_notebook(path, timeout=timeout, env=env)
    nbformat.validate(nb)
    mode = stat.S_IMODE(path.stat().st_mode)

    def write(tmp):
        nbformat.write(nb, tmp)
        # The temporary file is created 0600; keep the notebook readable as it was.
        os.chmod(tmp, mode)

    replace_atomically(path, write)
    return nb


def main(argv=None):
    """Refresh the notebooks named on the command line; return the exit status."""
    from nbclient.exceptions import CellControlSignal, DeadKernelError
    from nbformat import ValidationError
    from nbformat.reader import NotJSONError

    # What one broken notebook can raise; the others still get refreshed.
    broken = (CellControlSignal, DeadKernelError, NotJSONError, ValidationError)

    parser = argparse.ArgumentParser(
        prog="python -m tools.notebooks",
        description="Re-execute notebooks in place, refreshing their outputs.")
    parser.add_argument("paths", nargs="*", default=["notebooks"],
                        help="notebooks or folders of notebooks (default: notebooks)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT,
                        help="seconds any one cell may take (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        paths = find_notebooks(args.paths)
    except FileNotFoundError as err:
        parser.error(str(err))
    failed = []
    for path in paths:
        print("executing %s ..." % path, flush=True)
        start = time.time()
        try:
            refresh_notebook(path, timeout=args.timeout)
        except broken as err:
            print("error: %s failed and was left unchanged:\n%s" % (path, err),
                  file=sys.stderr)
            failed.append(path)
            continue
        print("  wrote %s (%.0f s)" % (path, time.time() - start), flush=True)
    if failed:
        print("error: %d of %d notebooks failed: %s"
              % (len(failed), len(paths), ", ".join(map(str, failed))), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
