"""Fuzzing tracer's readers and matcher with atheris: see fuzz/run.sh and fuzz/__main__.py.

Kept free of imports so that ``python -m fuzz`` can instrument tracer as it
first imports it.
"""
