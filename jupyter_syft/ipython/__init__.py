"""The IPython side of jupyter_syft: extension, display formatters, output cache, magics."""
