"""Streamlit widgets and session helpers shared by the pages (the only Streamlit code outside pages/, app.py).

session.py      owner id per browser session, its runs released when the session ends; torch threads; device
state.py        widget values that survive a page switch
live.py         the live fragment (refreshes only while something runs), per-version figure caching, throttling
controls.py     Start / Pause / Step / Reset for the session's current job on a page; live setting changes
sidebar.py      device and the user's jobs
code.py         "Show the code" expander (inspect.getsource of the real functions)
toy_setup.py    Mode collapse lab: setup state -> TrainConfig for runs A and B, presets, share link
toy_widgets.py  Mode collapse lab: the setup widgets
toy_views.py    Mode collapse lab: start a job, the live view of its snapshots
(image_*, latent, theory_views: the other pages' modules, same pattern.)
"""
