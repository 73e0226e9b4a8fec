import shutil

import pytest

from tests.ops.utils import child_env, manage


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """A migrated SQLite file, made once: copying it costs nothing, migrating a file costs seconds."""
    tmp_path = tmp_path_factory.mktemp("migrated")
    database = tmp_path / "migrated.sqlite3"
    result = manage("migrate", "--noinput", "-v0", env=child_env(tmp_path, DATABASE_URL=f"sqlite:///{database}"))
    assert result.returncode == 0, result.stderr
    return database


@pytest.fixture
def sqlite_copy(migrated_sqlite, tmp_path):
    """Returns a function that copies the migrated database to a file of the test and gives its URL."""
    def copy(name):
        shutil.copyfile(migrated_sqlite, tmp_path / name)
        return f"sqlite:///{tmp_path / name}"
    return copy
