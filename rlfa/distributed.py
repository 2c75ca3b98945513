# TEMPORARY shim while the studies move to rlfa.devices; removed before the redesign lands.
from rlfa.devices import *  # noqa: F401,F403
from rlfa.devices import is_main_process, start  # noqa: F401
