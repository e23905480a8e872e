from kfn import cloudevent, on_startup


@on_startup
def connect() -> None:
    raise ConnectionError("database unreachable")


@cloudevent(type="a")
async def handle(event: object) -> None: ...
