"""Any text file as a corpus: load_corpus, its compact array, its errors, today's d2l.ai call."""

import random
import tracemalloc

import numpy as np
import pytest

import d2l_rnn
from d2l_rnn._util import text as text_module
from d2l_rnn._util import text_file as text_file_module
from d2l_rnn.data import build_vocab, encode, load_corpus
from d2l_rnn.samplers import data_iter_consecutive, data_iter_random

TEXT = "Ünïcode Tëxt\nwith CJK 日本語 and emoji 😀🚀,\r\nkept AS it is.\n" * 3


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "text.txt"
    path.write_bytes(TEXT.encode("utf-8"))
    return path


def test_load_corpus_keeps_the_text_as_it_is(text_file):
    corpus, char_to_idx, idx_to_char, vocab_size = d2l_rnn.load_corpus(text_file)
    # 34 distinct characters: one byte per id.
    assert corpus.dtype == np.uint8 and corpus.nbytes == len(TEXT)
    assert (char_to_idx, idx_to_char) == build_vocab(TEXT)
    assert vocab_size == len(set(TEXT)) and {"\r", "\n", "Ü", "日", "😀"} <= set(idx_to_char)
    assert "".join(idx_to_char[i] for i in corpus) == TEXT


def test_lower_and_num_chars(text_file):
    corpus, _, idx_to_char, _ = load_corpus(text_file, lower=True, num_chars=20)
    assert "".join(idx_to_char[i] for i in corpus) == TEXT.lower()[:20]
    assert not any(c.isupper() for c in idx_to_char)


@pytest.mark.parametrize("lower", [False, True])
def test_chunks_join_without_a_seam(text_file, monkeypatch, lower):
    whole = load_corpus(text_file, lower=lower)[0]
    # Boundaries inside lines, inside multi-byte characters and between lines.
    monkeypatch.setattr(text_file_module, "_READ", 7)
    monkeypatch.setattr(text_file_module, "CHUNK", 5)
    monkeypatch.setattr(text_module, "CHUNK", 3)
    np.testing.assert_array_equal(load_corpus(text_file, lower=lower)[0], whole)


def test_encode_with_a_vocabulary_names_what_it_lacks():
    corpus, vocab = encode("abca", list("abc"))
    assert corpus.tolist() == [0, 1, 2, 0] and vocab == list("abc")
    with pytest.raises(ValueError, match=r"2 characters that are not in the vocabulary: 'é', '日'"):
        encode("abéc日", list("abc"))
    with pytest.raises(ValueError, match=r"1 character that is not in the vocabulary: 'é'$"):
        encode("abéc", list("abc"))  # planted: the plural for one, seen failing


def test_another_encoding(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("café".encode("latin-1"))
    assert load_corpus(path, encoding="latin-1")[2] == sorted("café")


@pytest.mark.parametrize("make,kwargs,message", [
    (lambda p: p / "missing.txt", {}, "no such file"),
    (lambda p: p, {}, "is a directory, not a text file"),
    (lambda p: _write(p / "empty.txt", b""), {}, "is empty"),
    (lambda p: _write(p / "bad.txt", "déjà".encode("utf-8") + b"\xff!"), {},
     r"not valid utf-8: byte 0xff at offset 6 .*encoding="),
    (lambda p: _write(p / "t.txt", b"abc"), {"encoding": "klingon"}, "'klingon' is not one"),
    (lambda p: _write(p / "t.txt", b"abc"), {"num_chars": 0}, "num_chars must be a positive"),
])
def test_bad_text_files_are_a_value_error_naming_the_problem(tmp_path, make, kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_corpus(make(tmp_path), **kwargs)


def _write(path, data):
    path.write_bytes(data)
    return path


def test_a_path_that_is_not_a_path_is_a_type_error():
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        load_corpus(3)


def test_todays_d2l_call_says_which_edition_this_is():
    with pytest.raises(TypeError, match=r"2019 MXNet edition.*call load_data_time_machine\(\)"):
        d2l_rnn.load_data_time_machine(32, 35)


def test_the_samplers_take_the_array_as_they_take_a_list(text_file):
    corpus = load_corpus(text_file)[0]
    for sampler in (data_iter_consecutive, data_iter_random):
        batches = []
        for indices in (corpus, corpus.tolist()):
            random.seed(1)
            batches.append([(X.asnumpy(), Y.asnumpy()) for X, Y in sampler(indices, 2, 5)])
        assert len(batches[0]) > 1
        for (Xa, Ya), (Xb, Yb) in zip(*batches):
            np.testing.assert_array_equal(Xa, Xb)
            np.testing.assert_array_equal(Ya, Yb)


def test_a_large_text_costs_a_few_bytes_per_character(tmp_path):
    # An ASCII text costs 1 byte per character as bytes and 1 as a str, the ids 4; a
    # list of ints would add 8 bytes per character in pointers alone.
    num_chars = 8_000_000
    line = b"The Time Traveller (for so it will be convenient to speak of him)\n"
    path = tmp_path / "large.txt"
    path.write_bytes(line * (num_chars // len(line) + 1))
    tracemalloc.start()
    try:
        corpus = load_corpus(path, num_chars=num_chars)[0]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(corpus) == num_chars
    assert peak < 8 * num_chars, peak / num_chars
