"""``load_mnist(source="full")`` against a loopback HTTP server started by the tests.

The server serves small IDX files generated here; the mirrors and SHA-256 registry are
swapped for the test ones, so nothing leaves 127.0.0.1.
"""
from __future__ import annotations

import gzip
import hashlib
import http.server
import socket
import threading

import numpy as np
import pytest

from cnncourse.data import DownloadError, load_mnist
from cnncourse.data import mnist as mnist_module
from cnncourse.data.mnist import MNIST_SHA256, _fetch_full, mnist_cache_dir

N_TRAIN, N_TEST = 30, 12


def _idx_gz(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0)


@pytest.fixture(scope="module")
def files():
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, N_TRAIN, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, N_TEST, dtype=np.uint8),
    }
    blobs = {name: _idx_gz(a) for name, a in arrays.items()}
    hashes = {name: hashlib.sha256(b).hexdigest() for name, b in blobs.items()}
    return arrays, blobs, hashes


class _Server:
    """A loopback HTTP server whose answers the test sets per path."""

    def __init__(self):
        self.routes = {}  # "/name" -> ("ok", body) | ("truncate", body) | ("corrupt", body)
        self.requests = []
        routes, requests = self.routes, self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                requests.append(self.path)
                kind, body = routes.get(self.path, ("missing", b""))
                if kind == "missing":
                    self.send_error(404)
                    return
                if kind == "corrupt":
                    body = bytes([body[0] ^ 0xFF]) + body[1:]
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                # "truncate": promise the whole body, send half, then drop the connection.
                self.wfile.write(body[: len(body) // 2] if kind == "truncate" else body)
                self.wfile.flush()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.close()


@pytest.fixture
def closed_port_url():
    """A URL on a loopback port that nothing listens on (connection refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/"


def _serve_all(server, blobs, kind="ok"):
    for name, body in blobs.items():
        server.routes["/" + name] = (kind, body)


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("split,n", [("train", N_TRAIN), ("test", N_TEST)])
def test_full_download_success_and_cache(server, files, tmp_path, monkeypatch, split, n):
    arrays, blobs, hashes = files
    _serve_all(server, blobs)
    monkeypatch.setattr(mnist_module, "MNIST_MIRRORS", (server.url,))
    monkeypatch.setattr(mnist_module, "MNIST_SHA256", hashes)
    x, y = load_mnist(split, source="full", cache_dir=tmp_path, progressbar=False)
    prefix = "train" if split == "train" else "t10k"
    assert np.array_equal(x, arrays[f"{prefix}-images-idx3-ubyte.gz"])
    assert np.array_equal(y, arrays[f"{prefix}-labels-idx1-ubyte.gz"].astype(np.int64))
    assert x.shape == (n, 28, 28) and x.dtype == np.uint8 and y.dtype == np.int64
    assert len(server.requests) == 2
    # Offline afterwards: the files come from the cache, the server is not asked again.
    server.close()
    x2, _ = load_mnist(split, source="full", cache_dir=tmp_path, as_torch=True)
    assert tuple(x2.shape) == (n, 1, 28, 28) and len(server.requests) == 2


def test_progress_bar_and_env_var_cache_dir(server, files, tmp_path, monkeypatch, capfd):
    _, blobs, hashes = files
    _serve_all(server, blobs)
    monkeypatch.setenv("CNNCOURSE_DATA_DIR", str(tmp_path))
    assert mnist_cache_dir() == tmp_path / "mnist"
    paths = _fetch_full(["t10k-labels-idx1-ubyte.gz"], mirrors=[server.url], hashes=hashes,
                        progressbar=True)
    assert paths["t10k-labels-idx1-ubyte.gz"] == tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    assert "100%" in capfd.readouterr().err  # tqdm drew its bar


def test_default_cache_dir_is_the_user_cache(monkeypatch):
    import pooch

    monkeypatch.delenv("CNNCOURSE_DATA_DIR", raising=False)
    assert mnist_cache_dir() == pooch.os_cache("cnncourse") / "mnist"


def test_checksum_mismatch_leaves_nothing_in_cache(server, files, tmp_path):
    _, blobs, hashes = files
    _serve_all(server, blobs, kind="corrupt")
    with pytest.raises(DownloadError) as info:
        _fetch_full(["train-labels-idx1-ubyte.gz"], cache_dir=tmp_path, mirrors=[server.url],
                    hashes=hashes, progressbar=False)
    assert "does not match the known hash" in str(info.value)
    assert _leftovers(tmp_path) == []


def test_server_down_names_the_bundled_alternative(closed_port_url, files, tmp_path):
    _, _, hashes = files
    with pytest.raises(DownloadError) as info:
        _fetch_full(["t10k-images-idx3-ubyte.gz"], "test", cache_dir=tmp_path,
                    mirrors=[closed_port_url], hashes=hashes, progressbar=False)
    message = str(info.value)
    assert "load_mnist('test', source=\"bundled\")" in message
    assert closed_port_url + "t10k-images-idx3-ubyte.gz" in message
    assert _leftovers(tmp_path) == []


def test_truncated_download_leaves_nothing_in_cache(server, files, tmp_path):
    _, blobs, hashes = files
    _serve_all(server, blobs, kind="truncate")
    with pytest.raises(DownloadError, match="IncompleteRead|does not match the known hash"):
        _fetch_full(["train-images-idx3-ubyte.gz"], cache_dir=tmp_path, mirrors=[server.url],
                    hashes=hashes, progressbar=False)
    assert _leftovers(tmp_path) == []


def test_mirrors_are_tried_in_order(server, closed_port_url, files, tmp_path, monkeypatch):
    arrays, blobs, hashes = files
    second = _Server()  # a mirror that cuts every download short
    try:
        _serve_all(second, blobs, kind="truncate")
        _serve_all(server, blobs)
        monkeypatch.setattr(mnist_module, "MNIST_MIRRORS", (closed_port_url, second.url, server.url))
        monkeypatch.setattr(mnist_module, "MNIST_SHA256", hashes)
        x, _ = load_mnist("test", source="full", cache_dir=tmp_path, progressbar=False)
        assert np.array_equal(x, arrays["t10k-images-idx3-ubyte.gz"])
        assert len(second.requests) == 2 and len(server.requests) == 2
    finally:
        second.close()


def test_corrupted_cache_file_is_downloaded_again(server, files, tmp_path, monkeypatch):
    arrays, blobs, hashes = files
    _serve_all(server, blobs)
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"damaged")
    monkeypatch.setattr(mnist_module, "MNIST_MIRRORS", (server.url,))
    monkeypatch.setattr(mnist_module, "MNIST_SHA256", hashes)
    _, y = load_mnist("test", source="full", cache_dir=folder, progressbar=False)
    assert np.array_equal(y, arrays["t10k-labels-idx1-ubyte.gz"])


def test_real_mnist_hashes_are_recorded():
    assert sorted(MNIST_SHA256) == sorted(mnist_module._FULL_FILES["train"]
                                          + mnist_module._FULL_FILES["test"])
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in MNIST_SHA256.values())
    assert all(url.startswith("https://") for url in mnist_module.MNIST_MIRRORS)
