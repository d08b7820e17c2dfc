"""minigan.nn: modules (layers with parameters), their functional forms (F) and initialisers."""
from . import functional, init  # noqa: F401
