"""``python -m benchmarks.texts OUT.txt``: a third benchmark text, Russian, made from this system.

The recipe for one's own text was chosen on an English novel and Chinese
prose (/work/shared/data); a third text checks it is not tuned to those two.
None ships with the library, so this one is made from what a Debian system
holds: the Russian translations of the messages and ``--help`` texts of
GNU coreutils, git and dpkg, read from their gettext catalogs
(``/usr/share/locale/ru/LC_MESSAGES/*.mo``, GPL like the programs). It is
Russian in Cyrillic with Latin option names, ``%s`` placeholders and line
breaks: another language and another style (terse technical instructions,
not prose). The text is the same on every run on the same system: the
messages of each catalog in the order of their English originals,
separated by blank lines, cut at ``--max-chars``.
"""

import argparse
import gettext
import sys
from pathlib import Path

__all__ = ["CATALOGS", "russian_messages", "main"]

CATALOGS = ("coreutils", "git", "dpkg")
_LOCALE = Path("/usr/share/locale/ru/LC_MESSAGES")


def russian_messages(max_chars=250000, locale=_LOCALE):
    """The text (see the module docstring); raise FileNotFoundError if a catalog is missing."""
    pieces = []
    for name in CATALOGS:
        with open(locale / (name + ".mo"), "rb") as f:
            catalog = gettext.GNUTranslations(f)._catalog
        for key in sorted(k for k in catalog if isinstance(k, str) and k):
            value = catalog[key]
            if isinstance(value, str) and len(value) > 40:  # sentences, not single words
                pieces.append(value.strip())
    return "\n\n".join(pieces)[:max_chars] + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.texts", description=__doc__)
    parser.add_argument("out", metavar="OUT.txt", help="where to write the text (UTF-8)")
    parser.add_argument("--max-chars", type=int, default=250000)
    args = parser.parse_args(argv)
    try:
        text = russian_messages(args.max_chars)
    except FileNotFoundError as err:
        sys.exit("benchmarks.texts: %s: this system lacks the Russian catalogs" % err.filename)
    Path(args.out).write_text(text, encoding="utf-8")
    print("%s: %d characters, %d distinct" % (args.out, len(text), len(set(text))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
