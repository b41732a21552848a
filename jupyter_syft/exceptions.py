"""Errors a user of jupyter_syft can see, named as PySyft 0.2 named them where it had one."""


class SyftError(Exception):
    """Base class of jupyter_syft's own errors."""


class TensorsNotCollocatedException(SyftError):
    """An operation mixed tensors that live on different machines."""


class ObjectNotFoundError(SyftError):
    """A worker was asked for an id it does not hold."""


class PointerFetchedError(SyftError, RuntimeError):
    """A pointer was used after .get() brought its tensor home."""


class RemoteValueError(SyftError, RuntimeError):
    """A Python value (item, bool, list, numpy) was asked of a pointer; .get() it first."""


class OperationNotAllowedError(SyftError):
    """A command named an operation outside the worker's allow-list."""


class MalformedMessageError(SyftError, ValueError):
    """Bytes that reached a worker are not a valid jupyter_syft message."""


class UnsupportedTypeError(SyftError, TypeError):
    """A value of a type the codec cannot carry between workers."""


class WorkerNotFoundError(SyftError):
    """A worker named by id does not exist."""


class PointerDeletedError(PointerFetchedError):
    """A pointer was used after its remote tensor was deleted (a PointerFetchedError, so
    ``except PointerFetchedError`` keeps catching it)."""


class CannotRequestObjectAttribute(SyftError, RuntimeError):
    """.get() was called on a pointer to an attribute (``ptr.grad``, ``ptr.data``)."""


class PlanBuildError(SyftError, RuntimeError):
    """A plan could not be traced (a value read, an operation off the allow-list, ...)."""


class InvalidPlanError(SyftError, ValueError):
    """A worker refused a plan before running any of it; the message names the first bad step."""


class PrivateDataError(SyftError, PermissionError):
    """A network worker refused to let private data (or anything computed from it) leave, or a
    client tried to change what belongs to the data owner."""


class WorkerUnreachableError(SyftError, ConnectionError):
    """A network worker did not answer in time (or refused the connection)."""


class ResourceLimitError(SyftError, ValueError):
    """A request would go over one of a worker's limits (elements in a tensor, tensors in a
    result, ids in a delete list); the worker refused it, before allocating anything when the
    size could be known in advance, and keeps serving."""
