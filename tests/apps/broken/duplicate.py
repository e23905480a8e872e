from kfn import cloudevent


@cloudevent(type="a")
async def handle(event: object) -> None: ...


@cloudevent(type="b", name="handle")
async def handle_b(event: object) -> None: ...
