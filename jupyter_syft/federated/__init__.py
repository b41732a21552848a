"""Federated-learning helpers, at the module paths PySyft 0.2's tutorials import them from."""
