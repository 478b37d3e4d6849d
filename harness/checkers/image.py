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


def sandbox_file(name: str) -> Path:
    return Path(str(resources.files("harness.sandboxes").joinpath(name)))


def image_tag() -> str:
    digest = hashlib.sha256()
    for name in ("Dockerfile", "runner.py"):
        digest.update(sandbox_file(name).read_bytes())
    return f"{IMAGE_REPO}:{digest.hexdigest()[:12]}"


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
        for name in ("Dockerfile", "runner.py"):
            shutil.copy(sandbox_file(name), Path(context) / name)
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
