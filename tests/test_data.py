"""The corpus loader: content, vocabulary, file lookup and download."""

import hashlib
import http.server
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import d2l_rnn
from d2l_rnn import data

REPO = Path(__file__).resolve().parent.parent
TEXT = (REPO / "data" / "timemachine.txt").read_bytes()


def test_shipped_file_is_the_known_text():
    assert hashlib.sha1(TEXT).hexdigest() == data.DATA_SHA1
    assert len(TEXT) == 178979


def test_default_load_matches_the_chapter(time_machine):
    corpus_indices, char_to_idx, idx_to_char, vocab_size = time_machine
    assert len(corpus_indices) == 10000
    assert vocab_size == 43 == len(idx_to_char) == len(char_to_idx)
    assert idx_to_char == sorted(idx_to_char)
    text = "".join(idx_to_char[i] for i in corpus_indices)
    expected = TEXT.decode()[:10000].replace("\n", " ").replace("\r", " ").lower()
    assert text == expected
    assert all(char_to_idx[c] == i for i, c in enumerate(idx_to_char))


def test_whole_book_with_num_chars_none():
    corpus_indices, _, idx_to_char, vocab_size = d2l_rnn.load_data_time_machine(num_chars=None)
    assert len(corpus_indices) == 178979
    assert "\n" not in idx_to_char and "\r" not in idx_to_char
    assert all(c == c.lower() for c in idx_to_char)
    assert vocab_size > 43


@pytest.mark.parametrize("bad", [0, -5, 2.5, "10", True])
def test_bad_num_chars(bad):
    with pytest.raises(ValueError, match="num_chars"):
        d2l_rnn.load_data_time_machine(num_chars=bad)


def test_vocabulary_is_the_same_under_any_hash_seed(tmp_path):
    code = ("import d2l_rnn; c, t, i, v = d2l_rnn.load_data_time_machine(); "
            "print(''.join(i), sum(c))")
    outputs = set()
    for hash_seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                             capture_output=True, text=True, check=True).stdout
        outputs.add(out)
    assert len(outputs) == 1


def test_works_from_another_directory_without_network(tmp_path):
    # The URL points at a closed port: success proves nothing was downloaded.
    code = ("import d2l_rnn; print(d2l_rnn.load_data_time_machine("
            "url='http://127.0.0.1:9/none')[3])")
    env = dict(os.environ, D2L_RNN_CACHE=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "43"
    assert not (tmp_path / "cache").exists()


class _Handler(http.server.BaseHTTPRequestHandler):
    routes = {}

    def do_GET(self):
        body = self.routes.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 serving a good and a corrupt copy."""
    _Handler.routes = {"/good.txt": TEXT, "/corrupt.txt": TEXT[:-10] + b"x" * 10}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_download_good_file(server, tmp_path):
    out = tmp_path / "d"
    result = d2l_rnn.load_data_time_machine(data_dir=out, url=server + "/good.txt")
    assert result[3] == 43
    assert (out / "timemachine.txt").read_bytes() == TEXT
    assert [p.name for p in out.iterdir()] == ["timemachine.txt"]


def test_download_goes_to_the_cache_only_when_no_copy_exists(server, tmp_path, monkeypatch):
    monkeypatch.setenv("D2L_RNN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "_PACKAGE_DIR", tmp_path / "nowhere" / "d2l_rnn")
    path = data.download_time_machine(url=server + "/good.txt")
    assert path == tmp_path / "cache" / "timemachine.txt"
    assert data.find_time_machine() == path


def test_corrupt_download_names_both_hashes_and_keeps_good_file(server, tmp_path):
    (tmp_path / "timemachine.txt").write_bytes(TEXT)
    bad = hashlib.sha1(TEXT[:-10] + b"x" * 10).hexdigest()
    with pytest.raises(data.ChecksumError) as info:
        data.download_time_machine(tmp_path, url=server + "/corrupt.txt")
    assert bad in str(info.value) and data.DATA_SHA1 in str(info.value)
    assert (tmp_path / "timemachine.txt").read_bytes() == TEXT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["timemachine.txt"]


def test_404_is_a_clear_error(server, tmp_path):
    with pytest.raises(OSError, match="404"):
        d2l_rnn.load_data_time_machine(data_dir=tmp_path, url=server + "/missing.txt")
    assert list(tmp_path.iterdir()) == []


def test_connection_refused_is_a_clear_error(tmp_path):
    with socket.socket() as sock:  # a port that was free a moment ago
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(OSError, match="could not download"):
        d2l_rnn.load_data_time_machine(data_dir=tmp_path, url="http://127.0.0.1:%d/x" % port)
    assert list(tmp_path.iterdir()) == []
