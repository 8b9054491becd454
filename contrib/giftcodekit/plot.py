"""Figures described as plain data, drawn with matplotlib.

A tool describes its figure as a JSON-ready dict and hands it to write():

    {"size": [width, height] (inches), "grid": [rows, columns], "dpi": 110,
     "suptitle": [text, {keyword arguments}] (optional),
     "axes": [[[operation, [arguments], {keyword arguments}], ...], ...]}

"axes" holds one list of operations per panel, row by row. An operation is
a method of matplotlib's Axes among AXES_METHODS (bar, scatter, plot,
axhline, annotate, set_xscale, legend, ...), called with its arguments, or
one of two of its own: ["integer_y", [], {}] keeps the y ticks whole, and
["ylim_from_zero", [factor], {}] sets the y axis from 0 to the top matplotlib
chose times factor (room for the legend).

The figure is drawn here when this interpreter has matplotlib. Otherwise,
when Debian's interpreter (SYSTEM_PYTHON) has it (python3-matplotlib), it
is drawn there, in a child process running this module with the
description on stdin: a separate interpreter (pyenv, a virtual environment)
does not load Debian's packages, and must not mix them into its own path.
When neither has it, PlotUnavailable says to install python3-matplotlib.
"""

import importlib
import json
import os
import subprocess
import sys

from giftcodekit.rpc import to_json

#: Debian's interpreter, where python3-matplotlib installs matplotlib.
SYSTEM_PYTHON = "/usr/bin/python3"
#: The folder holding this package, for the child process's module path.
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

AXES_METHODS = frozenset((
    "annotate", "axhline", "bar", "grid", "legend", "plot", "scatter", "set_title", "set_xlabel", "set_xlim",
    "set_xscale", "set_xticklabels", "set_xticks", "set_ylabel", "set_ylim", "set_yscale",
))

MISSING = ("plots need matplotlib: on Debian, apt-get install python3-matplotlib (neither this interpreter, %s, "
           "nor %s can import it)")


class PlotUnavailable(Exception):
    """No interpreter at hand can draw the figure, or drawing it failed."""


def _matplotlib_here():
    try:
        importlib.import_module("matplotlib")
        return True
    except ImportError:
        return False


def _matplotlib_in(python):
    if not os.access(python, os.X_OK):
        return False
    try:
        done = subprocess.run([python, "-c", "import matplotlib"], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def where(system_python=SYSTEM_PYTHON):
    """"here" when this interpreter draws, else the path of the interpreter
    that will; raises PlotUnavailable when none can."""
    if _matplotlib_here():
        return "here"
    if _matplotlib_in(system_python):
        return system_python
    raise PlotUnavailable(MISSING % (sys.executable, system_python))


def draw(description, path):
    """Draws the figure into the PNG file `path` with this interpreter's
    matplotlib (Agg backend, no display needed)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, cols = description.get("grid", (1, 1))
    fig, axes = plt.subplots(rows, cols, figsize=tuple(description["size"]), squeeze=False)
    panels = [ax for row in axes for ax in row]
    if len(description["axes"]) > len(panels):
        raise ValueError("%d panels described for a %dx%d grid" % (len(description["axes"]), rows, cols))
    for ax, operations in zip(panels, description["axes"]):
        for name, args, kwargs in operations:
            if name == "integer_y":
                ax.yaxis.get_major_locator().set_params(integer=True)
            elif name == "ylim_from_zero":
                ax.set_ylim(0, ax.get_ylim()[1] * args[0])
            elif name in AXES_METHODS:
                getattr(ax, name)(*args, **kwargs)
            else:
                raise ValueError("not a plot operation: %r" % name)
    if description.get("suptitle"):
        text, kwargs = description["suptitle"]
        fig.suptitle(text, **kwargs)
    fig.tight_layout()
    fig.savefig(path, dpi=description.get("dpi", 110))
    plt.close(fig)


def write(description, path, system_python=SYSTEM_PYTHON):
    """Draws the figure into `path`, here or with Debian's interpreter.
    Raises PlotUnavailable when no interpreter can, or the drawing failed."""
    drawer = where(system_python)
    if drawer == "here":
        draw(description, path)
        return
    env = dict(os.environ)
    env["PYTHONPATH"] = PACKAGE_PARENT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    done = subprocess.run([drawer, "-m", "giftcodekit.plot", os.path.abspath(path)], input=to_json(description),
                          capture_output=True, text=True, env=env, timeout=300)
    if done.returncode != 0:
        raise PlotUnavailable("%s could not draw %s: %s" % (drawer, path, done.stderr.strip()[-2000:]))


def main():
    if len(sys.argv) != 2:
        print("usage: python3 -m giftcodekit.plot FILE.png < description.json", file=sys.stderr)
        return 2
    draw(json.load(sys.stdin), sys.argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
