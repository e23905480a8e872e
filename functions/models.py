"""The event payloads of the shop, as pydantic models: validated in, serialized out.

`defer_build=True` leaves each model's validator to be built when it is first used
instead of when this module is imported. On Knative an instance woken by an event
for `audit` then serves it without building the order models first; `kfn run` on a
laptop (and `kfn list`, `kfn manifests`) still builds every model a function takes
at startup, so a broken one is found before it is deployed.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ShopModel(BaseModel):
    model_config = ConfigDict(defer_build=True)


class OrderLine(ShopModel):
    sku: str = Field(min_length=1)
    quantity: int = Field(gt=0)
    unit_price: float = Field(ge=0)


class Order(ShopModel):
    order_id: str = Field(min_length=1)
    customer: str
    lines: list[OrderLine] = Field(min_length=1)


class Invoice(ShopModel):
    invoice_id: str
    order_id: str
    customer: str
    total: float


class Shipment(ShopModel):
    shipment_id: str
    order_id: str
    customer: str
    carrier: str


class Notification(ShopModel):
    customer: str
    message: str
