"""A run's progress on stderr, batch by batch: a bar on a terminal, plain lines elsewhere.

On a terminal a tqdm bar advances with every batch and shows characters per
second, the time left in the epoch and, as ``run``, in the whole run (from
the speed so far). Off a terminal (a log file, a pipe, a job scheduler) a
plain line says the same at most every :data:`PLAIN_EVERY` seconds, the
first one that long after the start: a run shorter than that prints none.
"""

import contextlib
import sys
import time

from tqdm import tqdm

from ..samplers import num_batches

__all__ = ["Progress", "PLAIN_EVERY"]

PLAIN_EVERY = 30.0  # seconds between two plain lines (a module constant: tests shorten it)


def _clock_text(seconds):
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    return "%d:%02d:%02d" % (hours, rest // 60, rest % 60)


class Progress:
    """Report a run's batches; ``mode`` is ``'bar'``, ``'lines'`` or None (nothing).

    ``settings`` give the epochs, the batch shape and the sampler;
    ``num_chars`` the training text's length (for the batches per epoch).
    """

    def __init__(self, mode, settings, num_chars, clock=time.monotonic):
        self.mode, self.clock, self.file = mode, clock, sys.stderr
        self.num_epochs = settings.num_epochs
        self.chars = settings.batch_size * settings.num_steps  # per batch
        # The offset varies by epoch: the count from a middle one is within one.
        self.per_epoch = max(1, num_batches(num_chars, settings.batch_size, settings.num_steps,
                                            settings.sampler, settings.num_steps // 2))
        self.start = self.last_line = clock()
        self.trained, self.epoch, self.done, self.bar, self.postfix = 0, 0, 0, None, {}

    @classmethod
    def choose(cls, progress, settings, num_chars):
        """``progress`` None: a bar on a terminal, else lines; True: a bar; False: nothing."""
        if progress is None:
            progress = "bar" if sys.stderr.isatty() else "lines"
        elif progress is True:
            progress = "bar"
        return cls(progress or None, settings, num_chars)

    def _eta(self):
        """Seconds left in the epoch and in the run, from the speed of this run so far."""
        if not self.trained:
            return None, None
        per_batch = (self.clock() - self.start) / self.trained
        left = max(self.per_epoch - self.done, 0)
        return per_batch * left, per_batch * (left + (self.num_epochs - self.epoch) *
                                              self.per_epoch)

    def start_epoch(self, epoch, done):
        """Epoch ``epoch`` begins (or resumes after ``done`` batches)."""
        self.epoch, self.done = epoch, done
        if self.mode != "bar":
            return
        description = "epoch %d/%d" % (epoch, self.num_epochs)
        if self.bar is None:
            self.bar = tqdm(total=self.per_epoch * self.chars, unit="char", unit_scale=True,
                            desc=description, file=self.file, dynamic_ncols=True, leave=False)
        else:
            self.bar.set_description(description, refresh=False)
            self.bar.reset(total=self.per_epoch * self.chars)
        self.bar.update(done * self.chars)

    def batch(self, done):
        """A batch was trained; ``done`` batches of the epoch are."""
        self.trained, self.done = self.trained + 1, done
        now = self.clock()
        if self.bar is not None:
            if now - self.last_line >= 0.5:  # the run's ETA needs no more than twice a second
                self.last_line = now
                self.postfix["run"] = _clock_text(self._eta()[1])
                self.bar.set_postfix(self.postfix, refresh=False)
            self.bar.update(self.chars)
        elif self.mode == "lines" and now - self.last_line >= PLAIN_EVERY:
            self.last_line = now
            epoch_left, run_left = self._eta()
            rate = self.trained * self.chars / max(now - self.start, 1e-9)
            print("training: epoch %d/%d, batch %d of about %d, %.0f characters/s, epoch ends "
                  "in %s, run in %s" % (self.epoch, self.num_epochs, done, self.per_epoch, rate,
                                       _clock_text(epoch_left), _clock_text(run_left)),
                  file=self.file, flush=True)

    def end_epoch(self, end):
        """Show the epoch's perplexities (an :class:`~d2l_rnn.loop.EpochEnd`)."""
        self.postfix["ppl"] = "%.3f" % end.perplexity
        if end.val_perplexity is not None:
            self.postfix["val_ppl"] = "%.3f" % end.val_perplexity
        if self.bar is not None:
            self.bar.set_postfix(self.postfix)  # once an epoch: shown however short it was

    @contextlib.contextmanager
    def writing(self):
        """Around a line written to stdout: the bar steps aside and comes back after it."""
        if self.bar is None:
            yield
        else:
            with tqdm.external_write_mode():
                yield

    def close(self):
        if self.bar is not None:
            self.bar.close()
