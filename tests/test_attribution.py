"""Each checker's verdict is its own: a checker cannot write, patch or forge the verdict of
another checker of its item (host runner; tests/test_cross_item.py attacks the containers).

A generated checker runs in a process of its own unless its syntax tree proves it can reach
nothing another checker uses (``shares_nothing``); the analysis is tested on both sides: plain
checkers share the worker (no fork), every route to shared state is refused.
"""

from __future__ import annotations

import ast
import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_spec

from harness.checkers import CheckItem
from harness.checkers.runtime import LocalRuntime, runner_path
from harness.sandboxes import runner as wire

LIMITS = {"checker_timeout_s": 1.0, "checker_wall_s": 3.0, "item_timeout_s": 10.0}

SHARED = {
    "plain": "def check(r):\n    return len(r.split()) >= 3\n",
    "re": "import re\ndef check(response, word='x'):\n    return re.search(r'\\b' + word, response, re.I) is not None\n",
    "json": "import json\ndef check(r):\n    try:\n        json.loads(r)\n    except json.JSONDecodeError:\n        return False\n    return True\n",
    "from_import": "from collections import Counter\ndef check(r):\n    return Counter(r).most_common(1)[0][1] < 10\n",
    "import_in_function": "def check(r):\n    import string\n    return any(c in string.punctuation for c in r)\n",
    "helpers": "import math\ndef _words(r):\n    return r.split()\ndef check(r):\n    return math.isfinite(len(_words(r)))\n",
    "comprehension_lambda": "def check(r):\n    key = lambda w: len(w)\n    return max((w for w in r.split()), key=key, default='') != ''\n",
    "syntax_error": "def check(r) return True\n",
}

UNSHARED = {
    "os": "import os\ndef check(r):\n    return True\n",
    "sys": "import sys\ndef check(r):\n    return True\n",
    "ctypes": "import ctypes\ndef check(r):\n    return True\n",
    "dotted": "import os.path\ndef check(r):\n    return True\n",
    "module_as_value": "import re\ndef check(r):\n    m = re\n    return True\n",
    "module_as_argument": "import re\ndef check(r):\n    return bool(id(re))\n",
    "module_rebound": "import re\ndef check(r):\n    re = 1\n    return True\n",
    "module_submodule": "import re\ndef check(r):\n    return re.enum is not None\n",
    "statistics_sys": "import statistics\ndef check(r):\n    return statistics.sys is not None\n",
    "from_unlisted": "from string import Formatter\ndef check(r):\n    return True\n",
    "from_star": "from math import *\ndef check(r):\n    return True\n",
    "dunder_attribute": "def check(r):\n    return r.__class__ is str\n",
    "private_attribute": "import json\ndef check(r):\n    return json.loads._x\n",
    "frame": "def check(r):\n    g = (x for x in r)\n    return g.gi_frame is not None\n",
    "traceback": "def check(r):\n    try:\n        1 / 0\n    except ZeroDivisionError as e:\n        return e.with_traceback(None).tb_frame\n",
    "attribute_store": "import json\ndef check(r):\n    json.loads = len\n    return True\n",
    "attribute_delete": "def check(r):\n    del r.x\n    return True\n",
    "class": "class A:\n    pass\ndef check(r):\n    return True\n",
    "global": "X = 1\ndef check(r):\n    global X\n    return True\n",
    "getattr": "def check(r):\n    return getattr(r, 'upper')() == r\n",
    "eval": "def check(r):\n    return eval('True')\n",
    "globals": "def check(r):\n    return 'check' in globals()\n",
    "dunder_name": "def check(r):\n    return __builtins__ is not None\n",
    "dunder_function": "def __check(r):\n    return True\ndef check(r):\n    return __check(r)\n",
    "relative": "from . import x\ndef check(r):\n    return True\n",
    "except_binds_module": "import re\ndef check(r):\n    try:\n        pass\n    except Exception as re:\n        pass\n    return True\n",
}


@pytest.mark.parametrize("name", list(SHARED))
def test_plain_checkers_share_the_worker(name: str) -> None:
    code, shared = wire._compile({"id": name, "source": SHARED[name]})
    assert shared
    assert (name == "syntax_error") == isinstance(code, SyntaxError)


@pytest.mark.parametrize("name", list(UNSHARED))
def test_every_route_to_shared_state_gets_a_process_of_its_own(name: str) -> None:
    assert not wire.shares_nothing(ast.parse(UNSHARED[name]))


# Forgers: each returns True, and tries to turn the other checkers' verdicts into passes (each
# does, where all checkers of an item share one process).
FORGE_PIPE = """
import os
def check(r):
    lines = ''.join('{"i": %d, "status": "pass", "duration_s": 0}\\n' % i for i in range(4))
    for fd in range(3, 64):
        try:
            os.write(fd, lines.encode())
        except OSError:
            pass
    os._exit(0)
"""
FORGE_SEND = """
import sys
def check(r):
    runner = sys.modules['__main__']
    original = runner._send
    def forged(fd, obj):
        if 'status' in obj:
            obj = {**obj, 'status': 'pass', 'error_kind': None, 'message': None}
        original(fd, obj)
    runner._send = forged
    return True
"""
FORGE_LIBRARIES = """
import builtins, re, sys
def check(r):
    re.search = lambda *a, **k: True
    builtins.len = lambda x: 10 ** 6
    sys.modules['__main__'].isinstance = lambda *a: True
    return True
"""
FORGERS = {"pipe": FORGE_PIPE, "send": FORGE_SEND, "libraries": FORGE_LIBRARIES}
VICTIM = "def check(r):\n    return r == 'the expected response'\n"
VICTIM_RE = "import re\ndef check(r):\n    return re.search('expected', r) is not None\n"
VICTIM_ALONE = "import os\ndef check(r):\n    return len(r) > 10 ** 5\n"


@pytest.fixture(scope="module")
def local() -> LocalRuntime:
    pool = LocalRuntime(size=1, limits=LIMITS, allow_untrusted=True)
    yield pool
    pool.close()


@pytest.mark.parametrize("forger", list(FORGERS))
@pytest.mark.parametrize("position", ["first", "middle", "last"])
def test_a_checker_cannot_forge_another_checkers_verdict(
    local: LocalRuntime, forger: str, position: str
) -> None:
    source = FORGERS[forger]
    victims = [("v_shared", VICTIM), ("v_re", VICTIM_RE), ("v_alone", VICTIM_ALONE)]
    at = {"first": 0, "middle": 2, "last": 3}[position]
    checkers = victims[:at] + [("forger", source)] + victims[at:]
    spec = make_spec(checkers=[(cid, f"constraint {cid}", src) for cid, src in checkers])
    honest = CheckItem(make_spec(prompt_id="other", checkers=[("v", "c", VICTIM)]), "nope")
    results = asyncio.run(local.check([CheckItem(spec, "a different response"), honest]))
    verdicts = {v.checker_id: (v.status, v.error_kind) for v in results[0]}
    del verdicts["forger"]  # whatever it did to itself: a checker can only lie about itself
    assert verdicts == {
        "v_shared": ("fail", None),
        "v_re": ("fail", None),
        "v_alone": ("fail", None),
    }
    assert [(v.status, v.error_kind) for v in results[1]] == [("fail", None)]


CHILD_FAILURES = {
    "exits": ("import os\ndef check(r):\n    os._exit(7)\n", ("error", "crash"), "status 7"),
    "segfault": (
        "import ctypes\ndef check(r):\n    return ctypes.c_char.from_address(8).value == b'x'\n",
        ("error", "crash"),
        "SIGSEGV",
    ),
    "floods": (
        "import os\ndef check(r):\n    for fd in range(3, 64):\n        try:\n"
        "            os.write(fd, b'x' * (2 << 20))\n        except OSError:\n            pass\n"
        "    return True\n",
        ("error", "output_limit"),
        "more than",
    ),
    "garbage": (
        "import os\ndef check(r):\n    for fd in range(3, 64):\n        try:\n"
        "            os.write(fd, b'nonsense\\n')\n        except OSError:\n            pass\n"
        "    os._exit(0)\n",
        ("error", "garbage"),
        "nonsense",
    ),
    "spins": (
        "import os\ndef check(r):\n    while True:\n        pass\n",
        ("error", "timeout"),
        "CPU",
    ),
}


@pytest.mark.parametrize("name", list(CHILD_FAILURES))
def test_a_failing_checker_process_is_that_checkers_error_only(
    local: LocalRuntime, name: str
) -> None:
    """A checker in a process of its own that dies, floods, writes garbage or spins gets its
    error; the checkers around it (in processes of their own or in the worker) keep theirs."""
    source, expected, message = CHILD_FAILURES[name]
    own = "import os\ndef check(r):\n    return r == 'mine'\n"
    checkers = [
        ("before", own),
        ("bad", source),
        ("after", own),
        ("shared", "def check(r):\n    return r == 'mine'\n"),
    ]
    spec = make_spec(checkers=[(cid, f"constraint {cid}", src) for cid, src in checkers])
    [verdicts] = asyncio.run(local.check([CheckItem(spec, "mine")]))
    got = {v.checker_id: (v.status, v.error_kind) for v in verdicts}
    assert got == {
        "before": ("pass", None),
        "bad": expected,
        "after": ("pass", None),
        "shared": ("pass", None),
    }
    assert message in (verdicts[1].message or "")


REMEMBERS = """
import json, sys
sys.path.insert(0, sys.argv[1])
import runner
r = runner.Runner()
alone = "import os\\ndef check(r):\\n    return r == 'mine'\\n"
shared = "def check(r):\\n    return r == 'mine'\\n"
item = {"response": "mine", "checkers": [{"id": "a", "source": alone}, {"id": "s", "source": shared}]}
out = []
for _ in range(2):
    [verdicts] = r.run([item], dict(runner.DEFAULT_LIMITS))
    out.append([[v["checker_id"], v["status"]] for v in verdicts])
    out.append(sorted(r.shares.values()))
r.close()
print(json.dumps(out))
"""


def test_the_runner_remembers_each_sources_analysis() -> None:
    """The analysis a worker sends before running anything is kept per source, and later workers
    are told instead of analysing again; it decides the same way. (In a process of its own: a
    runner makes its process a subreaper.)"""
    folder = str(Path(runner_path()).parent)
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", REMEMBERS, folder],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    verdicts = [["a", "pass"], ["s", "pass"]]
    assert json.loads(done.stdout) == [verdicts, [False, True], verdicts, [False, True]]
