#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Parse each reStructuredText file given with docutils; print every warning
or error (malformed tables, unterminated literals, short underlines, stray
merge-conflict lines) and exit 1 if there was one.  The kernel's own Sphinx
directives and roles (kernel-doc, :doc:, ...) are not docutils' and are not
counted: the kernel's doc build checks those."""
import io
import sys

import docutils.core

SPHINX_ONLY = ('Unknown directive type', 'Unknown interpreted text role',
               'No directive entry', 'No role entry')
bad = 0
for path in sys.argv[1:]:
    err = io.StringIO()
    with open(path, encoding='utf-8') as f:
        docutils.core.publish_doctree(
            f.read(), source_path=path,
            settings_overrides={'report_level': 2, 'halt_level': 5,
                                'warning_stream': err})
    # A report is a line "<file>:<line>: (LEVEL/n) message" and its detail.
    for block in err.getvalue().split('\n' + path)[0:]:
        if not block.strip() or any(s in block for s in SPHINX_ONLY):
            continue
        if '(WARNING/' in block or '(ERROR/' in block or '(SEVERE/' in block:
            print(block.strip() if block.startswith(path) else path + block.rstrip())
            bad += 1
print(f'rst: {len(sys.argv) - 1} files, {bad} problems')
sys.exit(1 if bad else 0)
