"""Errors the domain raises when what people wrote cannot be a development."""


class InvalidInput(ValueError):
    """Raised for input that cannot be turned into a valid value or development.

    `field` names what was wrong (when known) so callers can point at it.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)
