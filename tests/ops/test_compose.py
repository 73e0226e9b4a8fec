"""The deployment files, checked where Docker cannot run: docker-compose.yml against the Compose
specification, and every command the containers run against the code they would run it on."""
import ast
import importlib
import importlib.util
import re
import shlex

import pytest
from celery import Celery
from celery.bin.celery import celery as celery_cli
from django.core.management import get_commands
from ruamel.yaml import YAML

from tests.ops.utils import BASE_DIR, BIN, run

APP_SERVICES = ("migrate", "web", "worker", "beat")


@pytest.fixture(scope="module")
def compose():
    return YAML(typ="safe").load((BASE_DIR / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def dockerfile_instructions():
    """(INSTRUCTION, arguments) pairs of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (BASE_DIR / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def argv(command):
    """A command as the container runs it: exec form as is, shell form split as sh would."""
    if isinstance(command, str):
        return shlex.split(command.replace("$$", "$"))
    return list(command)


def healthcheck_argv(service):
    kind, *rest = service["healthcheck"]["test"]
    return argv(rest[0]) if kind == "CMD-SHELL" else rest


def test_it_validates_against_the_compose_specification():
    result = run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "docker-compose.yml"],
                 env=None, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_runs_the_services_of_the_product(services):
    assert {"web", "worker", "beat", "db", "redis", "migrate"} <= set(services)
    assert services["db"]["image"].split(":")[1].startswith("16")
    assert services["redis"]["image"].split(":")[1].startswith("7")
    for name in APP_SERVICES:
        assert services[name]["build"] == "." and services[name]["image"] == services["web"]["image"]


def test_it_checks_the_health_of_every_long_running_service(services):
    for name, service in services.items():
        if service.get("restart") == "no":  # one-shot: its exit status is its health
            continue
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
        assert not service["healthcheck"].get("disable"), name


def test_it_publishes_nothing_on_a_public_interface(services):
    for name, service in services.items():
        assert service.get("network_mode") != "host", name
        for port in service.get("ports", []):
            host_ip = port.get("host_ip") if isinstance(port, dict) else str(port).split(":")[0]
            assert host_ip == "127.0.0.1", f"{name} publishes {port}"
    assert services["web"]["ports"], "the reverse proxy needs web on the host's loopback"
    for name in ("db", "redis", "worker", "beat", "migrate"):
        assert not services[name].get("ports"), name


def test_it_migrates_once_before_anything_else_starts(services):
    assert argv(services["migrate"]["command"])[1:3] == ["manage.py", "migrate"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
        assert "migrate" not in argv(services[name]["command"]), name


def test_it_runs_exactly_one_scheduler(services):
    assert argv(services["beat"]["command"])[3] == "beat"
    assert services["beat"]["deploy"]["replicas"] == 1
    for name, service in services.items():
        if name != "beat":
            assert "beat" not in argv(service.get("command", [])), f"{name} would run a second scheduler"
            assert "--beat" not in argv(service.get("command", [])), f"{name} would run a second scheduler"


def test_it_keeps_data_in_named_volumes(compose, services):
    declared = set(compose["volumes"])
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in services["db"]["volumes"]}
    assert mounts["/var/lib/postgresql/data"] in declared
    for name in APP_SERVICES:
        media = [v for v in services[name]["volumes"] if v.endswith(":/app/var/media")]
        assert media and media[0].split(":")[0] in declared, name


def check_entry_point(words):
    """Fail unless the command names something the image holds; return what was checked."""
    program, *args = words
    if program == "gunicorn":
        module, _, attribute = args[0].partition(":")
        assert callable(getattr(importlib.import_module(module), attribute or "application"))
        assert (BIN / "gunicorn").exists()
    elif program == "celery":
        assert args[0] == "-A"
        assert isinstance(importlib.import_module(args[1]).app, Celery)
        assert args[2] in celery_cli.commands, f"celery has no {args[2]} command"
    elif program == "python" and args[0] == "manage.py":
        assert args[1] in get_commands(), f"manage.py has no {args[1]} command"
    elif program == "python" and args[0] == "-m":
        assert importlib.util.find_spec(args[1]) is not None, f"no module {args[1]}"
    elif program in ("postgres", "pg_isready", "redis-cli", "redis-server"):
        pass  # in the postgres and redis images
    else:
        pytest.fail(f"unknown program {program}: teach this test what it needs")
    return program


def test_it_names_entry_points_that_exist(services):
    checked = set()
    for service in services.values():
        if "command" in service:
            checked.add(check_entry_point(argv(service["command"])))
        if "healthcheck" in service:
            checked.add(check_entry_point(healthcheck_argv(service)))
    for instruction, arguments in dockerfile_instructions():
        if instruction == "CMD":
            checked.add(check_entry_point(argv(ast.literal_eval(arguments))))
    assert {"gunicorn", "celery", "python"} <= checked


def test_it_builds_from_sources_that_exist():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    copies = [shlex.split(arguments) for instruction, arguments in instructions if instruction == "COPY"]
    assert copies
    for *sources, _destination in copies:
        assert not any(source.startswith("--from") for source in sources)
        for source in sources:
            assert (BASE_DIR / source).exists(), f"COPY {source}: not in the build context"
    runs = " ".join(arguments for instruction, arguments in instructions if instruction == "RUN")
    assert "manage.py collectstatic" in runs and "manage.py compilemessages" in runs
    assert "pip install -r requirements.txt" in runs
    users = [arguments for instruction, arguments in instructions if instruction == "USER"]
    assert users and users[-1] not in ("root", "0")
    env = " ".join(arguments for instruction, arguments in instructions if instruction == "ENV")
    assert "PRODUCTION=1" in env, "the image must default to production"


def test_it_installs_pg_dump_of_the_servers_major_version(services):
    # manage.py backup and restore run pg_dump and pg_restore, which refuse a newer server.
    instructions = dockerfile_instructions()
    server_major = services["db"]["image"].split(":")[1].split(".")[0]
    assert ("ARG", f"PG_MAJOR={server_major}") in instructions
    assert any("postgresql-client-${PG_MAJOR}" in arguments for instruction, arguments in instructions
               if instruction == "RUN")


def test_it_keeps_secrets_and_local_state_out_of_the_image():
    ignored = {line.strip() for line in (BASE_DIR / ".dockerignore").read_text().splitlines()}
    assert {".env", ".venv", "var", ".git"} <= ignored


def variables_read_by_settings():
    """Every environment variable config/settings.py reads, found in its syntax tree."""
    tree = ast.parse((BASE_DIR / "config" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            function = ast.unparse(node.func)
            if function in ("envstr", "envbool", "envint", "envlist", "os.environ.get", "os.getenv"):
                names.add(node.args[0].value)
    return names


def test_it_names_every_variable_in_the_example_environment(compose):
    text = (BASE_DIR / ".env.example").read_text()
    named = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    contract = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "EMAIL_HOST"}
    postgres = {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}
    interpolated = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", (BASE_DIR / "docker-compose.yml").read_text()))
    read = variables_read_by_settings()
    assert {"SECRET_KEY", "DATABASE_URL"} <= read
    missing = (contract | postgres | interpolated | read) - named
    assert not missing, f".env.example does not name {sorted(missing)}"
    # The values that must be chosen are left empty, so that a copy nobody edited cannot start.
    assert re.search(r"^SECRET_KEY=$", text, re.MULTILINE)
    assert re.search(r"^POSTGRES_PASSWORD=$", text, re.MULTILINE)

