from kfn import cloudevent


@cloudevent(type="a")
async def answers(event: object) -> dict[str, int]:
    return {"a": 1}
