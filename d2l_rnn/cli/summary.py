"""How ``d2l-rnn train`` ends: a summary on stdout, a line on stderr after a signal, the exit code.

Every run ends with the summary, after the chapter's lines, whether or not
stdout is a terminal and whatever ``--pred-period`` is: how and when it
ended, its perplexities (each also in bits per character), and where the
model is, or that it was not saved and how to save it. Its first line
starts ``summary:``; the others ``" - "``.
"""

import signal

__all__ = ["summary_lines", "stop_line", "exit_code"]


def _signal_name(signum):
    try:
        return signal.Signals(signum).name
    except ValueError:
        return "signal %d" % signum


def _where(result):
    """``epoch 13, batch 340`` within an epoch, else ``epoch 12``."""
    if result.batch:
        return "in epoch %d after batch %d (%d epoch%s done)" % (
            result.epoch + 1, result.batch, result.epoch, "" if result.epoch == 1 else "s")
    return "after epoch %d" % result.epoch


def _epochs(count):
    return "%d epoch%s" % (count, "" if count == 1 else "s")


def _how(result, run, args):
    s, r = run.settings, result
    if r.reason == "nothing_to_train":
        if r.epoch >= s.num_epochs:
            return "nothing to train: the checkpoint is at epoch %d and --epochs is %d" % (
                r.epoch, s.num_epochs)
        return ("nothing to train: the checkpoint stopped early at epoch %d, %d epochs after "
                "its best; pass a larger --patience to go on" % (r.epoch, run.judge.since))
    if r.reason == "finished":
        return "finished %s" % _epochs(r.epoch)
    if r.reason == "early_stop":
        return "stopped early %s: no better validation perplexity for %s" % (
            _where(r), _epochs(run.judge.since))
    if r.reason == "time_up":
        return "stopped %s: --max-time %s is up" % (_where(r), args.max_time)
    by = " by %s" % _signal_name(r.signal) if r.signal is not None else ""
    return "interrupted%s %s" % (by, _where(r))


def _resume_hint(result, run, args):
    folder = result.last_saved.parent
    if folder.name == "best" and run.save_dir is not None:
        folder = run.save_dir
    return "d2l-rnn train --resume %s" % (args.save or folder)


def summary_lines(result, run, args):
    """The summary's lines (see the module docstring)."""
    r = result
    lines = ["summary: %s, time %.2f sec" % (_how(r, run, args), r.seconds)]
    if r.perplexity is not None:
        lines.append(" - training perplexity %f, %.4f bits per character (epoch %d)"
                     % (r.perplexity, r.bits_per_char, r.epoch))
    if r.best_val_perplexity is not None:
        lines.append(" - best validation perplexity %f, %.4f bits per character (epoch %d)%s" % (
            r.best_val_perplexity, r.best_val_bits_per_char, r.best_epoch,
            ", saved in %s" % r.best_saved if r.best_saved is not None else ""))
    if r.last_saved is not None:
        going_on = "; go on with: %s" % _resume_hint(r, run, args) if r.reason in (
            "interrupted", "time_up") else ""
        lines.append(" - model saved in %s%s" % (r.last_saved, going_on))
    elif not run.saves:
        lines.append(" - worker 0 of the job saves the model")
    elif r.reason != "nothing_to_train":
        lines.append(" - the model was not saved: pass --save DIR to keep it (and --resume "
                     "DIR to go on from where it stopped)")
    return lines


def stop_line(result, run, args):
    """The stderr line after a signal: where the run was saved, or how to save next time."""
    how = "d2l-rnn: %s" % _how(result, run, args)
    if result.last_saved is not None:
        return "%s; saved in %s; go on with: %s" % (how, result.last_saved,
                                                     _resume_hint(result, run, args))
    return ("%s; not saved: pass --save DIR next time to keep the model and go on with "
            "--resume DIR" % how)


def exit_code(result):
    """0, or 128 + the signal's number (130 for SIGINT, 143 for SIGTERM)."""
    return 0 if result.signal is None else 128 + result.signal
