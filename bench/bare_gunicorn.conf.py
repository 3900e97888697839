"""gunicorn's configuration for bare Django in `python -m bench stack`: nothing of the app's.

Named on the command line so that gunicorn does not read ./gunicorn.conf.py (the app's: its
threads, logging and hooks); the worker settings come from bench/stack.py's command line.
"""
