"""Screens of the app, each with its .tcss beside it.

Dialogs are pushed with a callback, `push_screen(dialog, callback)`, and never
awaited with `push_screen_wait` in a worker: a worker pushes the dialog a tick
later, so a key typed right behind the one that opened it (`d` then `y`) would
reach the screen below (see widgets/focus_follow.py).
"""
