#!/usr/bin/python3
"""Turns a Python source file into a C header holding it as a string
(build step for the Python that spawning_child carries inside it).

usage: embed.py SOURCE.py NAME OUTPUT.h"""
import sys

source, name, output = sys.argv[1:4]
data = open(source, "rb").read()
body = ",".join(str(b) for b in data)
with open(output, "w") as f:
    f.write("/* generated from %s by child/python/embed.py; do not edit */\n" % source)
    f.write("static const char %s[] = {%s, 0};\n" % (name, body))
