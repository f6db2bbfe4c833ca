"""The evening's synthesis: suggestions computed on the laptop, from plain data.

Nothing here imports Flask, the models or the services: a job runner, the CLI
and the benchmark call it on plain dicts.
"""
