# Loaded by site.py because /opt/pyref is on PYTHONPATH. Chain to Debian's sitecustomize, then shim torch.
import os, importlib.util
_deb = "/usr/lib/python3.11/sitecustomize.py"
if os.path.exists(_deb):
    try:
        _spec = importlib.util.spec_from_file_location("_debian_sitecustomize", _deb)
        _spec.loader.exec_module(importlib.util.module_from_spec(_spec))
    except Exception:
        pass
try:
    import torch113_compat  # noqa: F401
except ImportError:
    pass
