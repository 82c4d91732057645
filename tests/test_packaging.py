"""Installing the hub without this repository: `make dist` builds a wheel of the core with the console inside
and one per plugin; pip installs them into a fresh virtual environment outside the repository, which then
initializes, serves the console, signs in and routes a call through the pip-installed OpenAI plugin. Also:
the declared version ranges between core and plugins, `make serve` leaving a user's plugin installed, and the
container image's definition (built with the same steps; no Docker engine runs here, so not the image)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import openai
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

from hubtest_plugins import dockerfile
from hubtest_plugins.cli import cli_env
from hubtest_plugins.http import call
from hubtest_plugins.tutorial import PACKAGES as TUTORIAL
from hubtest_plugins.tutorial import tutorial_projects

import hub_core
from hub_core.testing.server import free_port

REPO = Path(__file__).resolve().parents[1]
UV = REPO / ".tools" / "bin" / "uv"
PLUGINS = sorted(p for p in (REPO / "plugins").iterdir() if (p / "pyproject.toml").is_file())
KEY = re.compile(r"ahk-[A-Za-z0-9_\-]{40,}")


def pyproject(path: Path) -> dict:
    return tomllib.loads((path / "pyproject.toml").read_text())


def run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{args}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result


def tiny_plugin(where: Path, name: str, core_range: str) -> Path:
    """A one-module plugin project `aigne-hub-provider-<name>` 1.0 requiring `aigne-hub<core_range>`."""
    project = where / f"provider-{name}"
    project.mkdir()
    (project / f"hub_provider_{name}.py").write_text(f'"""The {name} plugin: no hooks, only there."""\n')
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "aigne-hub-provider-{name}"\nversion = "1.0"\n'
        f'dependencies = ["aigne-hub{core_range}"]\n'
        f'[project.entry-points.aigne_hub]\n{name} = "hub_provider_{name}"\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        f'[tool.hatch.build.targets.wheel]\ninclude = ["hub_provider_{name}.py"]\n'
    )
    return project


def test_every_plugin_requires_a_core_range_that_includes_this_core():
    core = Version(pyproject(REPO)["project"]["version"])
    assert str(core) == hub_core.__version__
    for plugin in PLUGINS:
        project = pyproject(plugin)["project"]
        core_reqs = [Requirement(r) for r in project["dependencies"] if Requirement(r).name == "aigne-hub"]
        assert len(core_reqs) == 1, plugin.name
        spec = core_reqs[0].specifier
        assert core in spec, f"{plugin.name} requires aigne-hub{spec}, this core is {core}"
        # An upper bound below the next minor version: 0.x minors may change the plugin API.
        next_minor = Version(f"{core.major}.{core.minor + 1}")
        assert next_minor not in spec, f"{plugin.name}: aigne-hub{spec} has no upper bound"


def build_steps() -> list[str]:
    """The Dockerfile's build-stage RUN steps that build the hub (not the system packages it installs)."""
    build = next(st for st in dockerfile.stages(REPO / "Dockerfile") if st.name == "build")
    return [cmd for cmd in build.all("RUN") if not cmd.startswith("apt-get")]


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """The wheels as the container image builds them: the Dockerfile's build steps, run in a copy of the
    build context (what .dockerignore lets through), outside this checkout."""
    context = tmp_path_factory.mktemp("context") / "src"
    dockerfile.copy_context(REPO, context)
    for step in build_steps():
        run("sh", "-c", step, cwd=context, timeout=900)
    return context / "dist"


def test_make_dist_builds_the_core_with_its_console_and_a_wheel_per_plugin(dist):
    version = hub_core.__version__
    core = dist / f"aigne_hub-{version}-py3-none-any.whl"
    with zipfile.ZipFile(core) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(f"aigne_hub-{version}.dist-info/METADATA").decode()
    assert "hub_core/ui_dist/index.html" in names
    assert any(re.fullmatch(r"hub_core/ui_dist/assets/index-.+\.js", n) for n in names)
    assert not any(n.startswith(("tests/", "plugins/", "ui/src/")) for n in names)
    assert "Requires-Dist: quart" in metadata
    assert (dist / f"aigne_hub-{version}.tar.gz").is_file()
    for plugin in PLUGINS:
        project = pyproject(plugin)["project"]
        stem = project["name"].replace("-", "_")
        with zipfile.ZipFile(dist / f"{stem}-{project['version']}-py3-none-any.whl") as wheel:
            meta = wheel.read(f"{stem}-{project['version']}.dist-info/METADATA").decode()
        # built as for an index: the core by version range, never by a path into this checkout
        assert re.search(r"^Requires-Dist: aigne-hub<0\.\d+,>=0\.\d+$", meta, re.M), (plugin.name, meta)
        assert "file://" not in meta


@pytest.mark.timeout(900)
def test_wheels_installed_with_pip_outside_the_repo_serve_the_console_and_a_plugin(
    dist, tmp_path, fake_openai_thread
):
    home = tmp_path / "elsewhere"
    home.mkdir()
    venv = home / "venv"
    run(sys.executable, "-m", "venv", venv, timeout=300)
    python, hub = venv / "bin" / "python", venv / "bin" / "aigne-hub"
    wheels = [
        next(dist.glob("aigne_hub-*.whl")),
        next(dist.glob("aigne_hub_provider_openai-*.whl")),
    ]
    pip = (python, "-m", "pip", "--disable-pip-version-check", "--no-input")
    run(*pip, "install", "--quiet", *wheels, cwd=home, timeout=600)
    run(*pip, "check", cwd=home)

    # The tutorial's four plugins (docs/plugins.md), published as their authors would and installed with pip.
    for project in tutorial_projects(tmp_path / "tutorial", f">={hub_core.__version__}"):
        run(UV, "build", "--wheel", "--out-dir", tmp_path / "tutorial-dist", project, timeout=300)
    tutorial_wheels = sorted((tmp_path / "tutorial-dist").glob("*.whl"))
    assert len(tutorial_wheels) == len(TUTORIAL)
    run(
        *pip,
        "install",
        "--quiet",
        "--no-index",
        "--find-links",
        dist,
        *tutorial_wheels,
        cwd=home,
        timeout=300,
    )

    # The installed package is the one that runs, with the console as its package data.
    where = "import hub_core.web.api.ui as ui; print(ui.ui_dist())"
    located = run(python, "-c", where, cwd=home).stdout.strip()
    assert Path(located).is_relative_to(venv) and (Path(located) / "index.html").is_file()

    # A plugin built for another core minor version is refused by pip.
    other = tiny_plugin(tmp_path, "future", ">=0.99,<0.100")
    run(UV, "build", "--wheel", "--out-dir", other / "dist", other, timeout=300)
    future_wheels = [str(w) for w in (other / "dist").glob("*.whl")]
    refused = subprocess.run(
        [*map(str, pip), "install", "--no-index", "--find-links", str(dist), *future_wheels],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode != 0 and "aigne-hub" in refused.stderr, refused.stderr

    data, port = home / "data", free_port()
    env = {**cli_env(data, AIGNE_HUB_PORT=str(port)), "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}
    env.pop("VIRTUAL_ENV", None)
    first = run(hub, "init", env=env, cwd=home, timeout=120)
    admin_key = KEY.search(first.stdout).group(0)
    run(hub, "providers", "add", "openai", "--base-url", fake_openai_thread.base_url, env=env, cwd=home)
    run(hub, "credentials", "add", "openai", "--value", str(fake_openai_thread.api_key), env=env, cwd=home)
    app_key = run(hub, "keys", "create", "--name", "app", env=env, cwd=home).stdout.splitlines()[-1]
    run(hub, "providers", "add", "acme", "--base-url", fake_openai_thread.base_url, env=env, cwd=home)
    run(hub, "credentials", "add", "acme", "--value", str(fake_openai_thread.api_key), env=env, cwd=home)
    org_secret = "tutorial-signing-secret"
    run(hub, "plugins", "config", "org", "secret", org_secret, env=env, cwd=home)

    log = home / "serve.out"
    with log.open("w") as out:
        proc = subprocess.Popen([str(hub), "serve"], env=env, cwd=home, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if call("GET", f"{url}/-/health", timeout=2).status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"the installed hub did not come up\n{log.read_text()}"
            time.sleep(0.2)

        # The console, from the wheel: its page, one of its scripts, and a sign-in session.
        page = call("GET", f"{url}/")
        assert page.status == 200 and "text/html" in page.headers["content-type"]
        script = re.search(r'src="\./(assets/[^"]+\.js)"', page.text).group(1)
        asset = call("GET", f"{url}/{script}")
        assert asset.status == 200 and "javascript" in asset.headers["content-type"]
        signed_in = call("POST", f"{url}/api/auth/session", json_body={"key": admin_key})
        assert signed_in.status == 200 and signed_in.body["isAdmin"] is True
        cookie = signed_in.headers["set-cookie"].split(";", 1)[0]
        me = call("GET", f"{url}/api/auth/session", headers={"Cookie": cookie})
        assert me.status == 200 and me.body["user"]["role"] == "owner"

        # The pip-installed plugin is loaded from the venv and routes a call to the (fake) upstream.
        plugins = {p["name"]: p for p in call("GET", f"{url}/-/plugins", key=admin_key).body}
        assert plugins["openai"]["distribution"] == "aigne-hub-provider-openai"
        assert (
            plugins["openai"]["version"]
            == pyproject(REPO / "plugins" / "provider-openai")["project"]["version"]
        )
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=app_key, max_retries=0)
        reply = client.chat.completions.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "from a wheel"}]
        )
        assert reply.choices[0].message.content == "Echo: from a wheel"
        streamed = client.chat.completions.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "streamed"}], stream=True
        )
        assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == "Echo: streamed"

        # The tutorial's plugins, pip-installed: loaded from their distributions, and each does its job.
        for module, (name, distribution) in TUTORIAL.items():
            assert plugins[name]["status"] == "enabled" and plugins[name]["distribution"] == distribution, (
                module
            )
        assert plugins["parrot"]["registered"] == {"providers": ["parrot"]}
        acme = client.chat.completions.create(
            model="acme/acme-large", messages=[{"role": "user", "content": "via acme"}]
        )
        assert acme.choices[0].message.content == "Echo: via acme"
        signature = hmac.new(org_secret.encode(), b"ada", hashlib.sha256).hexdigest()
        me = call("GET", f"{url}/api/user/info", headers={"X-Org-User": f"ada.{signature}"})
        assert me.status == 200, me.text
        assert call("GET", f"{url}/api/user/info", headers={"X-Org-User": "ada.forged"}).status == 401
        deadline = time.monotonic() + 10
        while len(lines := _jsonl(data / "usage.jsonl")) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [line["model"] for line in lines] == [
            "openai/gpt-4o-mini",
            "openai/gpt-4o-mini",
            "acme/acme-large",
        ]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "Traceback" not in log.read_text()


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _copy_checkout(target: Path) -> None:
    """The files `make serve` reads, without the environments and build outputs of this checkout."""
    skip = shutil.ignore_patterns(".git", ".venv*", ".tools", "node_modules", "dist", "data", "__pycache__")
    for name in ("pyproject.toml", "uv.lock", "Makefile", "README.md", "hatch_build.py"):
        shutil.copy2(REPO / name, target / name)
    for name in ("hub_core", "plugins"):
        shutil.copytree(REPO / name, target / name, ignore=skip)


@pytest.mark.timeout(600)
def test_make_serve_leaves_a_plugin_the_user_installed(tmp_path):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    _copy_checkout(checkout)
    make = ("make", "--no-print-directory", "python-serve", f"UV={UV}", f"PYTHON={sys.executable}")
    run(*make, cwd=checkout, timeout=600)
    venv_python = checkout / ".venv" / "bin" / "python"

    plugin = tiny_plugin(tmp_path, "mine", f">={hub_core.__version__}")
    run(UV, "pip", "install", "--python", venv_python, plugin, cwd=checkout, timeout=300)

    run(*make, cwd=checkout, timeout=600)  # what `make serve` runs before starting the hub
    listed = run(checkout / ".venv" / "bin" / "aigne-hub", "plugins", "list", env=cli_env(tmp_path / "data"))
    assert re.search(r"^mine\s+1\.0\s", listed.stdout, re.M), listed.stdout
    # and no test-only packages came with it
    listing = run(UV, "pip", "list", "--format", "json", "--python", venv_python).stdout
    installed = {p["name"] for p in json.loads(listing)}
    assert "aigne-hub-provider-mine" in installed and not {"pytest", "ruff", "openai"} & installed


# --- the container image (Dockerfile, compose.yaml) ----------------------------------------------------


def test_the_image_is_built_with_make_dist_and_installs_its_wheels_with_pip():
    assert build_steps() == ["make dist PYTHON=python3"]  # the `dist` fixture above runs exactly these
    build, runtime = dockerfile.stages(REPO / "Dockerfile")
    assert build.name == "build" and runtime.name is None
    assert build.all("COPY") == [". ."] and build.all("WORKDIR") == ["/src"]
    assert runtime.all("COPY") == ["--from=build /src/dist/*.whl /tmp/wheels/"]
    (install,) = runtime.all("RUN")
    assert install.startswith("pip install --no-cache-dir --disable-pip-version-check /tmp/wheels/*.whl")


def test_the_image_runs_unprivileged_with_the_data_dir_as_a_volume():
    runtime = dockerfile.stages(REPO / "Dockerfile")[-1]
    env = dict(pair.split("=", 1) for args in runtime.all("ENV") for pair in args.split() if "=" in pair)
    (user,) = runtime.all("USER")
    uid, _, gid = user.partition(":")
    assert int(uid) >= 1000 and int(gid) >= 1000  # numeric: no passwd lookup needed, never root
    assert (
        "--uid 10001 --gid 10001" in runtime.all("RUN")[0]
        and "chown aigne-hub:aigne-hub /data" in (runtime.all("RUN")[0])
    )
    assert json.loads(runtime.all("VOLUME")[0]) == [env["AIGNE_HUB_DATA_DIR"]]
    assert runtime.all("EXPOSE") == [env["AIGNE_HUB_PORT"]] and env["AIGNE_HUB_HOST"] == "0.0.0.0"
    assert json.loads(runtime.all("CMD")[0]) == ["aigne-hub", "serve"]


def test_the_dockerfile_passes_hadolint():
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), "--no-color", str(REPO / "Dockerfile")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def healthcheck_command() -> list[str]:
    (check,) = dockerfile.stages(REPO / "Dockerfile")[-1].all("HEALTHCHECK")
    return json.loads(check[check.index("CMD") + 3 :])


@pytest.mark.parametrize("mount", ["", "/hub"])
def test_the_health_check_passes_on_a_ready_hub_and_fails_without_one(
    hub_server_factory, hub_settings, mount
):
    server = hub_server_factory(hub_settings.with_(mount_path=mount))
    command = [sys.executable if part == "python" else part for part in healthcheck_command()]
    env = {"AIGNE_HUB_PORT": str(server.port), "AIGNE_HUB_MOUNT_PATH": mount + "/" if mount else ""}
    assert subprocess.run(command, env=env, capture_output=True, timeout=30).returncode == 0
    server.stop()
    env["AIGNE_HUB_PORT"] = str(free_port())  # nothing listening
    assert subprocess.run(command, env=env, capture_output=True, timeout=30).returncode != 0


def test_compose_runs_the_hub_on_postgres_with_only_settings_the_hub_reads():
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"hub", "postgres", "redis"}
    hub, postgres = services["hub"], services["postgres"]
    assert hub["build"] == "." and hub["depends_on"]["postgres"]["condition"] == "service_healthy"
    read = set(re.findall(r'"(AIGNE_HUB_[A-Z_]+)"', (REPO / "hub_core" / "config.py").read_text()))
    assert set(hub["environment"]) <= read, set(hub["environment"]) - read
    pg = postgres["environment"]
    url = f"postgres://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/{pg['POSTGRES_DB']}"
    assert hub["environment"]["AIGNE_HUB_DATABASE_URL"] == url
    # the owner's key from a secret file, nothing printed; the data dir on a named volume
    secret = hub["environment"]["AIGNE_HUB_ADMIN_KEY_FILE"]
    assert secret == f"/run/secrets/{hub['secrets'][0]}" and hub["secrets"][0] in compose["secrets"]
    assert "hub-data:/data" in hub["volumes"] and "hub-data" in compose["volumes"]
