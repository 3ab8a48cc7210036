"""Streamlit widgets and views: the only Streamlit code outside pages/ and app.py. One subpackage per page,
named after the page the user sees, and the controls every page shares beside them.

lang.py         the session's language (link, sidebar switch, browser preference) for ganlab.i18n
session.py      owner id per browser session, its runs released when the session ends; torch threads; device
state.py        widget values that survive a page switch
live.py         the live fragment (refreshes only while something runs), per-version figure caching, throttling
controls.py     Start / Pause / Step / Reset for the session's current job on a page; live setting changes
setup_form.py   what the training pages' setup forms share: loss labels, locked widgets, the link restored once
links.py        share links: a setup as URL query params, and reading one back
sidebar.py      device and the user's jobs
code.py         "Show the code" expander (inspect.getsource of the real functions)
mode_collapse/  Mode collapse lab: setup (state -> TrainConfig for runs A and B), widgets, views
image_gan/      Image GAN: setup, widgets, views, checkpoint download / upload
latent_space/   Latent space: source (which generator), views (one per mode), share (its link)
theory/         Theory: widgets (-> TheoryConfig, its link), views (commands and the live view)
"""
