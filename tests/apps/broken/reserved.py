from kfn import http


@http("/health/status")
async def status() -> dict[str, str]:
    return {}
