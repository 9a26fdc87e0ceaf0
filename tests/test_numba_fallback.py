"""numba is a dependency; where it cannot be imported, training runs on the numpy engine and
says so once per process on stderr (never a traceback, never a silent slow run)."""
import sys

import numpy as np

import deltarule as dr
from deltarule import fast


def test_without_numba_the_numpy_engine_trains_and_a_note_is_said_once(monkeypatch, capsys):
    p = dr.load_problem("seed-000-neuron")
    sched = dr.Schedule("stochastic", epochs=2000)
    with_numba = fast.engine_for(p.network, len(p.x), sched)
    assert with_numba == "scalar"  # the compiled engine where numba imports
    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` now raises ImportError
    monkeypatch.setattr(fast, "_NO_NUMBA", [])
    assert fast.engine_for(p.network, len(p.x), sched) == "buffered"
    assert fast.engine_for(p.network, len(p.x), sched) == "buffered"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("deltarule: note: numba cannot be imported")
    r = dr.train(p.network, p.x, p.y, p.learning_rate, dr.Schedule("stochastic", epochs=3000))
    assert capsys.readouterr().err == ""  # said once, not at every run
    assert np.isfinite(r.journal.rows).all() and len(r.journal) == 3001
