"""Errors a user can act on.

Every `RagtuiError` carries one line that names the file, key or backend involved and
says what to do. The CLI prints it without a traceback; tracebacks are for bugs only.
"""


class RagtuiError(Exception):
    """A problem caused by input or environment, with a message a user can act on."""


class Cancelled(RagtuiError):
    """Long work (embedding, building an index) stopped because its user went away."""


class SpecError(RagtuiError):
    """A retriever, generator or pipeline spec string that does not parse."""


class CorpusError(RagtuiError):
    """A corpus path or dataset that cannot be read."""


class IndexBuildError(RagtuiError):
    """An index that cannot be built or loaded."""


class ModelError(RagtuiError):
    """A model that cannot be found or loaded."""
