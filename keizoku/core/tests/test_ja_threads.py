"""The postal-code lookup works from any thread (web servers answer from several)."""

from concurrent.futures import ThreadPoolExecutor

from keizoku.core import ja


def test_postal_code_lookup_works_from_other_threads():
    ja.address_for_postal_code.cache_clear()
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(ja.address_for_postal_code, ["1000005", "5300001", "1600023"]))
    assert results == ["東京都千代田区丸の内", "大阪府大阪市北区梅田", "東京都新宿区西新宿"]
