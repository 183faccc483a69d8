#!/usr/bin/env python3
"""check_ci_examples.py -- the CI examples in examples/ci/ as far as this
machine can check them (docs/ci.md): each YAML file parses; it is a GitHub
Actions workflow or a GitLab CI file of the expected shape (junit.xml
published as test results, report.html kept, both also when the run
failed); and every camsim command line in its shell steps is valid for the
current CLI: run with the example's own variables, `camsim run` with
--list and `camsim load` with --dry-run parse every option and exit 0.
Each line is then run again with its first option misspelt, which must be
refused (exit 2, "unknown option"): the check proves it can fail.

usage: tests/check_ci_examples.py CAMSIM [EXAMPLE.yml ...]
(default: every examples/ci/*.yml); exit 0 all good, 1 a problem."""
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A file option's stand-in: an example names the team's adapter, which
# does not exist here; a valid adapter of camsim's takes its place.
FILE_STANDINS = {"--adapter": os.path.join(ROOT, "examples",
                                           "mock-adapter.json")}
# What makes each subcommand check its options and stop.
CHECK_FLAG = {"run": "--list", "load": "--dry-run"}
SEPARATORS = {"&&", "||", ";", "|", "&"}

problems = []


def problem(where, msg):
    problems.append("%s: %s" % (where, msg))


def shell_blocks(doc):
    """(where, env, text) of every shell step, with the variables it sees."""
    out = []
    if "jobs" in doc:  # GitHub Actions
        top = doc.get("env") or {}
        for name, job in (doc.get("jobs") or {}).items():
            jenv = dict(top, **(job.get("env") or {}))
            for i, step in enumerate(job.get("steps") or []):
                if "run" in step:
                    env = dict(jenv, **(step.get("env") or {}))
                    out.append(("job %s, step %d (%s)" % (
                        name, i + 1, step.get("name", "")), env, step["run"]))
    else:  # GitLab CI
        top = doc.get("variables") or {}
        for name, job in doc.items():
            if not isinstance(job, dict) or "script" not in job:
                continue
            env = dict(top, **(job.get("variables") or {}))
            env = {k: (v.get("value") if isinstance(v, dict) else v)
                   for k, v in env.items()}
            for part in ("before_script", "script", "after_script"):
                lines = job.get(part) or []
                if isinstance(lines, str):
                    lines = [lines]
                for i, line in enumerate(lines):
                    out.append(("job %s, %s line %d" % (name, part, i + 1),
                                env, line))
    return out


def camsim_lines(text):
    """The camsim commands of a shell text (continuations joined)."""
    text = re.sub(r"\\\n", " ", text)
    found = []
    for line in text.split("\n"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            words = shlex.split(line, comments=True, posix=True)
        except ValueError:
            continue
        cmd = []
        for w in words + [";"]:
            if w in SEPARATORS:
                if cmd and cmd[0] == "camsim":
                    found.append((line, cmd))
                cmd = []
            else:
                cmd.append(w)
    return found


def expand(word, env, where):
    def var(m):
        name = m.group(1) or m.group(2)
        if name not in env:
            problem(where, "uses $%s, which the example does not define"
                    % name)
            return ""
        return str(env[name])
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", var, word)


def run_camsim(camsim, argv, tmp):
    # nothing of the caller's camsim settings; the suite of this tree,
    # wherever the binary is (build/san/camsim under make sanitize)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CAMSIM_")}
    env["CAMSIM_DATA"] = ROOT
    p = subprocess.run([camsim] + argv[1:], cwd=tmp, env=env,
                       capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


def check_command(camsim, where, raw_line, words, env):
    # the raw words still hold "$VAR": expand them as the shell would
    argv = [expand(w, env, where) for w in words]
    if len(argv) < 2:
        problem(where, "camsim without a subcommand: %s" % raw_line)
        return None
    sub = argv[1]
    if sub in ("--version", "version"):
        rc, out = run_camsim(camsim, argv, tempfile.gettempdir())
        if rc != 0 or not out.startswith("camsim "):
            problem(where, "%s: exit %d: %s" % (raw_line, rc, out[:200]))
        return sub
    if sub not in CHECK_FLAG:
        problem(where, "camsim %s cannot be checked here (only run, load "
                "and version are): %s" % (sub, raw_line))
        return None
    tmp = tempfile.mkdtemp(prefix="camsim-ci-")
    try:
        for i, w in enumerate(argv[:-1]):
            standin = FILE_STANDINS.get(w)
            if standin and not os.path.isabs(argv[i + 1]):
                dest = os.path.join(tmp, argv[i + 1])
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copy(standin, dest)
        rc, out = run_camsim(camsim, argv + [CHECK_FLAG[sub]], tmp)
        if rc != 0:
            problem(where, "not valid for the current CLI (exit %d):\n  %s"
                    "\n  %s" % (rc, raw_line, out.strip().split("\n")[0]))
            return sub
        opts = [i for i, w in enumerate(argv) if w.startswith("--")]
        if not opts:
            return sub
        bad = list(argv)
        bad[opts[0]] += "x"
        rc, out = run_camsim(camsim, bad + [CHECK_FLAG[sub]], tmp)
        if rc != 2 or "unknown option" not in out:
            problem(where, "a misspelt %s was not refused (exit %d), so "
                    "this check proves nothing: %s" % (bad[opts[0]], rc,
                                                        out.strip()[:300]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return sub


def always(cond):
    return isinstance(cond, str) and ("always()" in cond or
                                      "!cancelled()" in cond)


def check_shape(path, doc):
    """What a reader of the example relies on."""
    if "jobs" in doc:
        steps = [s for j in doc["jobs"].values() for s in j.get("steps", [])]
        if not any(j.get("runs-on") for j in doc["jobs"].values()):
            problem(path, "no job has runs-on")
        junit = [s for s in steps if "junit.xml" in str(s.get("with", ""))
                 and "uses" in s and "upload-artifact" not in s["uses"]]
        html = [s for s in steps if "upload-artifact" in s.get("uses", "")
                and "report.html" in str(s.get("with", ""))]
        if not junit:
            problem(path, "no step publishes junit.xml as test results")
        if not html:
            problem(path, "no upload-artifact step keeps report.html")
        for s in junit + html:
            if not always(s.get("if")):
                problem(path, "step %r runs only when camsim passed; a "
                        "failed run's reports matter most (if: "
                        "${{ !cancelled() }})" % s.get("name"))
    else:
        jobs = [j for j in doc.values() if isinstance(j, dict)
                and "script" in j]
        if not jobs:
            problem(path, "no job with a script")
        for j in jobs:
            art = j.get("artifacts") or {}
            if not str((art.get("reports") or {}).get("junit", "")) \
                    .endswith("junit.xml"):
                problem(path, "artifacts:reports:junit is not junit.xml")
            if not any("report.html" in p for p in art.get("paths") or []):
                problem(path, "artifacts:paths does not keep report.html")
            if art.get("when") != "always":
                problem(path, "artifacts are kept only when camsim passed "
                        "(when: always)")


def main():
    if len(sys.argv) < 2:
        print(__doc__.split("\n\n")[-1], file=sys.stderr)
        return 2
    camsim = os.path.abspath(sys.argv[1])
    files = sys.argv[2:] or sorted(
        glob.glob(os.path.join(ROOT, "examples", "ci", "*.yml")))
    if not files:
        print("check_ci_examples: no examples in examples/ci/",
              file=sys.stderr)
        return 1
    checked = 0
    for path in files:
        try:
            with open(path) as f:
                doc = yaml.safe_load(f)
        except (OSError, yaml.YAMLError) as e:
            problem(path, "does not parse as YAML: %s" % e)
            continue
        if not isinstance(doc, dict):
            problem(path, "is not a YAML mapping")
            continue
        check_shape(path, doc)
        gate = False
        for where, env, text in shell_blocks(doc):
            for raw, words in camsim_lines(str(text)):
                sub = check_command(camsim, "%s: %s" % (path, where), raw,
                                    words, env)
                checked += sub is not None
                gate |= sub == "run" and all(o in words for o in (
                    "--server", "--adapter", "--fail-on-skip"))
        if not gate:
            problem(path, "no camsim run with --server, --adapter and "
                    "--fail-on-skip")
    for p in problems:
        print("check_ci_examples: " + p, file=sys.stderr)
    print("check_ci_examples: %d file(s), %d camsim command line(s) checked, "
          "%d problem(s)" % (len(files), checked, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
