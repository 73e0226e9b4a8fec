import cProfile, pstats, io
from tests.suggestions import test_import_volume as v
def test_prof(people, tmp_path, monkeypatch):
    monkeypatch.setattr(v, "ROWS", 300)
    pr = cProfile.Profile()
    real = v.import_file
    def wrapped(*a, **k):
        pr.enable()
        try: return real(*a, **k)
        finally: pr.disable()
    monkeypatch.setattr(v, "import_file", wrapped)
    try:
        v.test_it_imports_10000_rows_in_budget(people, tmp_path)
    except AssertionError:
        pass
    st = pstats.Stats(pr); st.sort_stats("cumulative").print_stats("audit|receivers|spreadsheets.py|workflow.py", 30)
