"""The checker sandbox image: its content-addressed tag, and building it (offline if need be).

The tag is a hash of the Dockerfile and the runner, so a checkout always uses the image that
matches its runner. ``python -m harness.checkers.image build`` (what sandboxes/build_image.sh
runs) builds it when missing: from ``BASE_IMAGE`` (default ``python:3.11-slim``) when it can be
pulled, else from a Debian base made locally with mmdebstrap from the Debian mirror that apt
already uses, imported with ``docker import``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

IMAGE_REPO = "harness-checker"
PUBLIC_BASE = "python:3.11-slim"
LOCAL_BASE = "harness-debian-base:bookworm"
IMAGE_ENV = "HARNESS_CHECKER_IMAGE"
RUNNER_IN_IMAGE = "/opt/harness/runner.py"
PRELOAD_IN_IMAGE = "/opt/harness/preload.py"


def sandbox_file(name: str) -> Path:
    return Path(str(resources.files("harness.sandboxes").joinpath(name)))


# Python packages of built-in checkers copied into the image (pure Python, or built for this
# interpreter's version: the image's python3 must have the same major.minor as the host's).
CHECKER_LIBRARIES = (
    "if_verifiable",
    "emoji",
    "immutabledict",
    "langdetect",
    "six",
    "nltk",
    "syllapy",
    "regex",
    "click",
    "joblib",
    "tqdm",
)
NLTK_PACKAGES = ("punkt_tab", "averaged_perceptron_tagger_eng", "stopwords")
SANDBOX_FILES = ("Dockerfile", "runner.py", "preload.py")


def _library_paths() -> dict[str, Path]:
    paths = {}
    for name in CHECKER_LIBRARIES:
        spec = importlib.util.find_spec(name)
        if spec is None:
            raise RuntimeError(
                f"{name} is not installed here; `pip install -e .` installs the checker libraries"
            )
        locations = list(spec.submodule_search_locations or [])
        paths[name] = Path(locations[0]) if locations else Path(spec.origin or "")
    return paths


def _library_manifest() -> str:
    versions = []
    for name in CHECKER_LIBRARIES:
        try:
            versions.append(f"{name}=={importlib.metadata.version(name.replace('_', '-'))}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name}==?")
    return "\n".join(versions)


def image_tag() -> str:
    digest = hashlib.sha256()
    for name in SANDBOX_FILES:
        digest.update(sandbox_file(name).read_bytes())
    digest.update(_library_manifest().encode())
    return f"{IMAGE_REPO}:{digest.hexdigest()[:12]}"


def _nltk_data(target: Path, log=print) -> None:
    """The NLTK data of the built-in checkers: from the data folder or NLTK_DATA, else downloaded."""
    candidates = [os.environ.get("NLTK_DATA")]
    if os.environ.get("HARNESS_DATA_DIR"):
        candidates.append(str(Path(os.environ["HARNESS_DATA_DIR"]) / "nltk_data"))
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            shutil.copytree(candidate, target, dirs_exist_ok=True)
            return
    import nltk

    log("downloading NLTK data for the built-in checkers")
    for package in NLTK_PACKAGES:
        if not nltk.download(package, download_dir=str(target), quiet=True):
            raise RuntimeError(
                f"cannot get NLTK data {package}: set NLTK_DATA or HARNESS_DATA_DIR to a folder that has it"
            )


def _build_context(context: Path, log=print) -> None:
    for name in SANDBOX_FILES:
        shutil.copy(sandbox_file(name), context / name)
    lib = context / "lib"
    lib.mkdir()
    for name, path in _library_paths().items():
        if path.is_dir():
            shutil.copytree(
                path, lib / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "tests")
            )
        else:
            shutil.copy(path, lib / path.name)
    _nltk_data(context / "nltk_data", log)


def compose_file() -> Path:
    """The compose file for Inspect's docker sandbox; points it at this checkout's image."""
    os.environ[IMAGE_ENV] = image_tag()
    return sandbox_file("compose.yaml")


def _docker(
    *args: str, check: bool = True, capture: bool = True, timeout: float | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", *args], check=check, capture_output=capture, text=True, timeout=timeout
    )


def image_exists(name: str) -> bool:
    return _docker("image", "inspect", name, check=False).returncode == 0


def _debian_mirror() -> str:
    sources = list(Path("/etc/apt/sources.list.d").glob("*.sources"))
    for path in sources:
        for line in path.read_text().splitlines():
            if line.startswith("URIs:") and "security" not in line:
                return line.split()[1]
    listing = Path("/etc/apt/sources.list")
    if listing.exists():
        for line in listing.read_text().splitlines():
            m = re.match(r"deb\s+(?:\[[^]]*\]\s+)?(\S+)", line)
            if m and "security" not in m.group(1):
                return m.group(1)
    raise RuntimeError(
        "no Debian mirror found in /etc/apt: set BASE_IMAGE to an image with python3"
    )


def build_local_base(log=print) -> str:
    """A minimal Debian bookworm image with python3 and libseccomp, built without a registry."""
    if image_exists(LOCAL_BASE):
        return LOCAL_BASE
    if shutil.which("mmdebstrap") is None:
        raise RuntimeError(
            "no registry reachable and no mmdebstrap: `apt-get install mmdebstrap` or set BASE_IMAGE"
        )
    mirror = _debian_mirror()
    log(f"building {LOCAL_BASE} with mmdebstrap from {mirror}")
    with tempfile.TemporaryDirectory() as tmp:
        tarball = Path(tmp) / "base.tar"
        subprocess.run(
            [
                "mmdebstrap",
                "--variant=minbase",
                "--include=python3,libseccomp2",
                "bookworm",
                str(tarball),
                mirror,
            ],
            check=True,
            capture_output=True,
        )
        _docker("import", str(tarball), LOCAL_BASE)
    return LOCAL_BASE


def resolve_base(log=print) -> str:
    base = os.environ.get("BASE_IMAGE")
    if base:
        return base
    if image_exists(PUBLIC_BASE):
        return PUBLIC_BASE
    pulled = _docker("pull", PUBLIC_BASE, check=False, timeout=600)
    if pulled.returncode == 0:
        return PUBLIC_BASE
    log(
        f"cannot pull {PUBLIC_BASE} ({pulled.stderr.strip().splitlines()[-1] if pulled.stderr else 'no registry'})"
    )
    return build_local_base(log)


def build(log=print) -> str:
    """Build this checkout's checker image if it is missing; return its tag."""
    tag = image_tag()
    if image_exists(tag):
        log(f"{tag} is up to date")
        return tag
    base = resolve_base(log)
    log(f"building {tag} from {base}")
    with tempfile.TemporaryDirectory() as context:
        _build_context(Path(context), log)
        result = _docker(
            "build",
            "--build-arg",
            f"BASE_IMAGE={base}",
            "-t",
            tag,
            "-t",
            f"{IMAGE_REPO}:latest",
            context,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"docker build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
    log(f"built {tag}")
    _remove_stale_builds(tag)
    return tag


def _remove_stale_builds(current: str) -> None:
    """Drop earlier builds of the checker image (each runner change makes a new tag)."""
    listed = _docker("images", IMAGE_REPO, "--format", "{{.Repository}}:{{.Tag}}", check=False)
    for name in listed.stdout.split():
        if name not in (current, f"{IMAGE_REPO}:latest"):
            _docker("rmi", name, check=False)  # fails harmlessly while a container still uses it


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.checkers.image", description=__doc__)
    parser.add_argument("command", choices=["build", "tag"])
    args = parser.parse_args(argv)
    if args.command == "tag":
        print(image_tag())
        return 0
    try:
        build(log=lambda m: print(f"[build_image] {m}", file=sys.stderr))
    except (RuntimeError, subprocess.CalledProcessError) as ex:
        print(f"[build_image] {ex}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
