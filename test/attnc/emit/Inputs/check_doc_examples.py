"""Compiles every ```attn example of a Markdown file with attnc.

usage: check_doc_examples.py ATTNC DOC.md WORKDIR

Library examples are written to WORKDIR as <name>.attn, so model examples can
import them; each model example is compiled with --emit=mlir -I WORKDIR.
Prints one line per example and exits 1 if any model does not compile.
"""
import os
import re
import subprocess
import sys

attnc, doc, workdir = sys.argv[1:4]
os.makedirs(workdir, exist_ok=True)
blocks = re.findall(r"```attn\n(.*?)```", open(doc, encoding="utf-8").read(), re.S)
models = []
for block in blocks:
    header = next(line for line in block.splitlines()
                  if line.strip() and not line.lstrip().startswith("#"))
    kind, name = header.split()[:2]
    path = os.path.join(workdir, name + ".attn")
    with open(path, "w", encoding="utf-8") as f:
        f.write(block)
    if kind == "model":
        models.append((name, path))
    else:
        print("library", name)

failed = 0
for name, path in models:
    run = subprocess.run([attnc, path, "--emit=mlir", "-I", workdir],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    if run.returncode != 0 or run.stderr:
        failed += 1
        print("FAILED", name)
        print(run.stderr)
    else:
        print("model", name)
print("%d examples, %d failed" % (len(blocks), failed))
sys.exit(1 if failed else 0)
