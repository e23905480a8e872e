"""An event app whose models defer their build (pydantic's `defer_build=True`).

`census` answers with which models are built, so a test sees from outside the
process when kfn built them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from kfn import CloudEvent, cloudevent


class Deferred(BaseModel):
    model_config = ConfigDict(defer_build=True)


class Order(Deferred):
    order_id: str = Field(min_length=1)
    quantity: int = Field(gt=0)


class Receipt(Deferred):
    order_id: str


@cloudevent(type="test.deferred.order", reply_type="test.deferred.receipt")
async def take(order: Order) -> Receipt:
    return Receipt(order_id=order.order_id)


@cloudevent(type="test.deferred.census", reply_type="test.deferred.built")
async def census(event: CloudEvent) -> dict[str, bool]:
    return {"Order": Order.__pydantic_complete__, "Receipt": Receipt.__pydantic_complete__}
