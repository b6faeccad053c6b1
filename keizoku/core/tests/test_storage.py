"""Production's static storage: each URL is what whitenoise's manifest storage gives."""

import json

import pytest
from whitenoise.storage import CompressedManifestStaticFilesStorage

from keizoku.core.storage import StaticFilesStorage

MANIFEST = {
    "version": "1.1",
    "hash": "f00",
    "paths": {"keizoku/app.css": "keizoku/app.0123456789ab.css", "vendor/htmx.min.js": "v/h.js"},
}


@pytest.fixture
def root(tmp_path):
    (tmp_path / "staticfiles.json").write_text(json.dumps(MANIFEST))
    return tmp_path


def test_each_url_is_the_manifest_storages_and_stays_the_same(root, settings):
    settings.DEBUG = False
    ours = StaticFilesStorage(location=str(root), base_url="/static/")
    theirs = CompressedManifestStaticFilesStorage(location=str(root), base_url="/static/")
    for name in ("keizoku/app.css", "vendor/htmx.min.js", "keizoku/app.css?v=1#x"):
        assert ours.url(name) == theirs.url(name)
        assert ours.url(name) == theirs.url(name)  # the memo gives the same answer
    assert ours.url("keizoku/app.css") == "/static/keizoku/app.0123456789ab.css"
    with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
        ours.url("keizoku/absent.css")  # a missing file still fails, every time
    with pytest.raises(ValueError):
        ours.url("keizoku/absent.css")
