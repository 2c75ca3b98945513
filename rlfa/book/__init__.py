"""Sutton & Barto's figures of chapters 9-11 as programs: what each runs, its workload, and
the helpers that record and draw it. The algorithms they run are :mod:`rlfa.prediction`'s
and :mod:`rlfa.control`'s; the studies that run them are ``experiments/*.py``.

=================================  ==========================================================
figure                             module
=================================  ==========================================================
9.1, 9.2 (left), 9.5, 9.10         :mod:`~rlfa.book.random_walk_figures` (§9.3-9.5)
9.2 (right), LSTD beside TD(0)     :mod:`~rlfa.book.n_step_td_figures` (§9.4, §9.8)
9.8                                :mod:`~rlfa.book.coarse_coding_figure` (§9.5.3)
10.1, 10.2, 10.3, 10.4             :mod:`~rlfa.book.mountain_car_figures` (§10.1, §10.2)
10.5                               :mod:`~rlfa.book.access_control_figure` (§10.3)
11.2, 11.5, 11.6                   :mod:`~rlfa.book.baird_figures` (§11.2, §11.7, §11.8)
=================================  ==========================================================

A new figure goes in the module of its family, or a new ``*_figure(s).py`` named after what
it reproduces; its study in ``experiments/``. Each module is imported by name.
"""
