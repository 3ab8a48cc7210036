"""Streamlit widgets and session helpers shared by the pages (the only Streamlit code outside pages/, app.py).

session.py     owner id per browser session, its runs released when the session ends; torch threads; device
state.py       widget values that survive a page switch
live.py        the live fragment (refreshes only while something runs) and per-version figure caching
controls.py    Start / Pause / Step / Reset for the session's current job on a page
sidebar.py     device and the user's jobs
code.py        "Show the code" expander (inspect.getsource of the real functions)
toy_setup.py   Mode collapse lab: widgets -> TrainConfig for runs A and B, presets, share link
toy_views.py   Mode collapse lab: the live view of a toy job
"""
