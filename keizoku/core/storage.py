"""Static files in production: whitenoise's compressed, hashed (manifest) storage, with each
file's URL looked up once per process.

``{% static %}`` runs ``ManifestFilesMixin.url`` for every use: it parses and rebuilds the path and
looks it up in the manifest, about 25 µs each, four to six times on every page. The manifest is
read when the process starts and does not change while it runs, so the answer for a name does not
either; ``collectstatic`` (which rewrites the manifest) starts from an empty memo.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage

MEMO_LIMIT = 1000  # names written in our templates: a few dozen


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name, force=False):
        if force:
            return super().url(name, force)
        url = self._urls.get(name)
        if url is None:
            url = super().url(name)
            if len(self._urls) < MEMO_LIMIT:
                self._urls[name] = url
        return url

    def post_process(self, *args, **kwargs):
        self._urls.clear()
        yield from super().post_process(*args, **kwargs)
        self._urls.clear()
