"""The training run: a model trained on a text, stopped at any batch and resumed exactly.

:class:`TrainingRun` trains like the chapter's ``train_and_predict_rnn_gluon``
(the same initialisation, the same epoch from
:func:`~d2l_rnn.training.make_epoch`, the same printed lines from
:func:`~d2l_rnn.loop.fit`) and adds what a run on a text of one's own
needs: validation, the best snapshot, learning-rate decay, early stopping,
a metrics file, checkpoints on a schedule, a time budget, and a stop after
any batch (:meth:`TrainingRun.fit`, :mod:`.fitting`). It keeps its state
between calls, so a run can be saved at any batch and rebuilt from any of
its snapshots (:meth:`TrainingRun.resume`): the parameters, the optimizer
state, the place in the epoch and the random states come back, so the
batches after a resume are the very batches an uninterrupted run trains.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

from .._util.hints import Block, Contexts, StrPath
from ..checkpoint import Checkpoint, load_checkpoint
from ..devices import context_list, try_gpu
from ..model import describe_model
from ..settings import Text, TrainSettings, load_text
from ..training import make_epoch
from . import fitting
from .init_from import pick_snapshot, protected_folders, start_settings
from .judge import Judge
from .result import RunResult
from .resume import check_vocabulary, load_resumable, restore, resume_settings
from .start import start_model, with_prefixes
from .stopping import StopRequest

__all__ = ["TrainingRun"]


class TrainingRun:
    """A model, its optimizer, its text and its history, trained batch by batch.

    Parameters
    ----------
    settings : TrainSettings
        What to train and how (checked here: ValueError naming a bad one).
    ctx : mxnet.Context or list of mxnet.Context, optional
        Default :func:`~d2l_rnn.devices.try_gpu`. Several devices train data
        parallel; evaluation and samples run on the first.
    text : Text, optional
        Training and held-out text; default ``load_text(settings)``.
    model : RNNModel, optional
        None: built from the settings and initialised as the chapter does
        (``Normal(0.01)`` after seeding with ``settings.seed``). A model of
        your own is trained as it is if initialised (so training goes on
        from its parameters), else initialised so; its shape replaces the
        settings' ``cell``, ``num_hiddens``, ``num_layers``, ``embed_size`` and ``dropout``.
    kvstore : {'device', 'dist_sync', 'dist_async'}
        ``dist_*`` make this process one worker of a launched job: only
        worker 0 saves, with ``dist_async`` without the optimizer state, and
        stops and saves happen at epoch ends only.

    Attributes
    ----------
    epoch, batch : int
        Epochs done, and batches done of the next one.
    history, val_history : list of float
        Training and validation perplexity per epoch (NaN: not validated).
    save_dir : pathlib.Path or None
        Where :meth:`fit` saves by default: the folder a resumed run came from.
    last_saved, best_saved : pathlib.Path or None
        The last snapshot and the last best snapshot this object wrote.
    protected : tuple of pathlib.Path
        Folders :meth:`fit` never saves into (an :meth:`init_from` run's checkpoint).
    """

    def __init__(self, settings: TrainSettings, ctx: Contexts | None = None,
                 text: Text | None = None, model: Block | None = None, *,
                 kvstore: str = "device") -> None:
        if not isinstance(settings, TrainSettings):
            raise TypeError("settings must be a TrainSettings, got %r" % type(settings).__name__)
        ctxs = context_list(try_gpu() if ctx is None else ctx)
        settings.check()
        text = load_text(settings) if text is None else text
        settings, model = start_model(settings, text, ctxs, model)
        self._start(settings, ctxs, text, model, kvstore)

    @classmethod
    def resume(cls, directory: StrPath | Checkpoint, ctx: Contexts | None = None,
               text: Text | None = None, *, kvstore: str = "device",
               **overrides: Any) -> "TrainingRun":
        """Rebuild a run from its newest snapshot, ready to :meth:`fit` on from there.

        Parameters
        ----------
        directory : str, os.PathLike or Checkpoint
            A save folder (its newest snapshot is taken, ``best/`` included),
            one snapshot folder, or a loaded :class:`~d2l_rnn.checkpoint.Checkpoint`.
            The run goes on saving into the save folder (``DIR`` for
            ``DIR/best``) unless ``fit`` is told otherwise.
        ctx, text, kvstore
            As for :class:`TrainingRun` (``text`` must have the checkpoint's
            vocabulary).
        **overrides
            Settings to change, e.g. ``num_epochs=300`` (the new total).

        Raises
        ------
        CheckpointError
            For a missing or damaged checkpoint.
        ValueError
            :class:`~.resume.FixedSettingError` for a change of the model's
            shape, dropout, optimizer or seed, :class:`~.resume.VocabularyError` for a
            text with another vocabulary, or a bad setting.
        """
        ctxs = context_list(try_gpu() if ctx is None else ctx)
        checkpoint = (directory if isinstance(directory, Checkpoint)
                      else load_resumable(directory, ctxs))
        settings = resume_settings(checkpoint, **overrides).check()
        text = load_text(settings) if text is None else text
        check_vocabulary(checkpoint.idx_to_char, text.idx_to_char)
        run = cls.__new__(cls)
        run._start(settings, ctxs, text, checkpoint.model, kvstore, checkpoint)
        return run

    @classmethod
    def init_from(cls, directory: StrPath | Checkpoint, ctx: Contexts | None = None,
                  text: Text | None = None, *, which: str | None = None,
                  kvstore: str = "device", **settings: Any) -> "TrainingRun":
        """A new run that starts from a trained checkpoint's weights (fine-tuning).

        ``directory`` is a save folder (``which``: ``'best'``, ``'last'``, or
        None: best when it has one), a snapshot folder, or a loaded
        :class:`~d2l_rnn.checkpoint.Checkpoint` (whose model is then trained).
        The model, its vocabulary (``text``, default ``load_text`` of the
        settings, is put into it) and its shape come from the checkpoint;
        ``**settings`` and the defaults give the rest (e.g. ``data='new.txt'``:
        the recipe for one's own text). The optimizer, the epochs and the
        random stream start afresh, and :meth:`fit` refuses to save into the
        checkpoint's folders, or in or around them (:mod:`.init_from`).

        Raises CheckpointError for a missing or damaged checkpoint, ValueError
        for a shape setting that disagrees (:class:`~.init_from.InitShapeError`),
        a character outside the vocabulary
        (:class:`~d2l_rnn._util.foreign.ForeignCharacterError`) or a bad setting.
        """
        ctxs = context_list(try_gpu() if ctx is None else ctx)
        checkpoint = (directory if isinstance(directory, Checkpoint)
                      else load_checkpoint(pick_snapshot(directory, which), ctxs))
        chosen, text = start_settings(checkpoint, text, settings)
        run = cls(chosen, ctxs, text, checkpoint.model, kvstore=kvstore)
        run.protected = protected_folders(checkpoint)
        return run

    def _start(self, settings, ctxs, text, model, kvstore, checkpoint=None):
        settings = with_prefixes(settings, text)
        self.settings, self.ctxs, self.ctx, self.text, self.model = (settings, ctxs, ctxs[0],
                                                                     text, model)
        self.kvstore, self.stop = kvstore, StopRequest()
        self.epoch = self.batch = 0
        self.history, self.val_history, self.saved_schedule = [], [], {}
        self.save_dir = self.last_saved = self.best_saved = self.resumed_from = None
        self.protected = ()  # folders fit never saves into (init_from's checkpoint)
        self.saved_point, self.pending = None, None  # pending: (cursor, norms) within an epoch
        self.schedule = self.fitting = None  # while fit runs: its schedule and its state
        description = describe_model(model)
        self.reseeds = max(description["dropout"], description["output_dropout"]) > 0
        model.hybridize(static_alloc=True)
        self.train_one_epoch = make_epoch(
            model, settings.lr, text.train, settings.batch_size, settings.num_steps,
            settings.clipping_theta, ctxs, kvstore, is_random_iter=settings.sampler == "random",
            optimizer=settings.optimizer)
        self.trainer, self.saves = self.train_one_epoch.trainer, self.train_one_epoch.parallel.saves
        self.saves_trainer = kvstore != "dist_async"
        if checkpoint is not None:
            restore(self, checkpoint)
        self.judge = Judge(settings, self.val_history, self.trainer.set_learning_rate,
                           lambda: fitting.save_best(self))
        if self.judge.lr != self.trainer.learning_rate:  # decayed before the resume
            self.trainer.set_learning_rate(self.judge.lr)

    def request_stop(self) -> None:
        """Ask :meth:`fit` to stop after the batch in progress (thread-safe; a callback or
        another thread may call it). The run ends as ``'interrupted'``, saved if it saves."""
        self.stop.request("interrupted")

    def save(self, directory: StrPath, overwrite: bool = False) -> Path:
        """Write a snapshot of the run as it is now (within an epoch too) into ``directory``;
        return its path.

        Raises
        ------
        FloatingPointError
            If the parameters are NaN or infinite (nothing is written).
        """
        return fitting.save_point(self, directory, overwrite)

    def fit(self, save_dir: StrPath | None = None, *, save_every: int | None = None,
            save_every_batches: int | None = None, save_every_minutes: float | None = None,
            max_time: float | str | None = None, log: StrPath | None = None,
            overwrite: bool = False, callbacks: Iterable[Callable] = (),
            progress: bool | None = None, handle_signals: bool = True,
            write: Callable[[str], Any] = print) -> RunResult:
        """Train up to ``settings.num_epochs``; return how the run ended (:class:`RunResult`).

        Every ``pred_period`` epochs the chapter's lines go to ``write``.
        Training ends at the last epoch, when the ``patience`` runs out, when
        ``max_time`` is up, or after the batch in progress when a stop is
        requested (:meth:`request_stop`, or SIGINT / SIGTERM with
        ``handle_signals`` in the main thread; a second signal raises
        :class:`~.stopping.Interrupted`, a ``KeyboardInterrupt``, at once).

        Parameters
        ----------
        save_dir : str or os.PathLike, optional
            Folder for checkpoints (default: :attr:`save_dir`, the folder of
            a resumed run; None: nothing is saved). It is checked and locked
            before training. With validation the best snapshot goes into
            ``save_dir/best``. A snapshot is written by the schedule below,
            after the last epoch, and wherever the run stops.
        save_every, save_every_batches, save_every_minutes : number, optional
            Save every K epochs, N batches and M minutes (0: never). Default:
            a resumed run's own schedule, else every 10 epochs, and with a
            text of one's own (``settings.data``) every 10 minutes too.
        max_time : float or str, optional
            Time budget of this call: seconds, or ``'90s'``, ``'20m'``,
            ``'2h'``, ``'1h30m'`` (:func:`~.schedule.parse_duration`).
        log : str or os.PathLike, optional
            A CSV file with a row per epoch (continued on resume).
        overwrite : bool
            Let the first save replace another run's checkpoint in ``save_dir``.
        callbacks : iterable of callable
            Called with each epoch's :class:`~d2l_rnn.loop.EpochEnd` after the
            run's own; setting its ``stop`` ends the run after that epoch.
        progress : bool, optional
            None: a per-batch bar on a terminal, else a line every 30 s on
            stderr; True: the bar; False: nothing.

        Raises
        ------
        ValueError
            For a bad argument or save folder (before training).
        CheckpointError
            If the save folder is another run's or is in use.
        FloatingPointError
            If the loss diverges (snapshots written before stay intact).
        OSError
            If a checkpoint or the log cannot be written.
        """
        return fitting.fit(self, save_dir, dict(
            epochs=save_every, batches=save_every_batches, minutes=save_every_minutes),
            max_time, log, overwrite, list(callbacks), progress, handle_signals, write)
