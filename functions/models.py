"""The event payloads of the shop, as pydantic models: validated in, serialized out."""

from __future__ import annotations

from pydantic import BaseModel, Field


class OrderLine(BaseModel):
    sku: str = Field(min_length=1)
    quantity: int = Field(gt=0)
    unit_price: float = Field(ge=0)


class Order(BaseModel):
    order_id: str = Field(min_length=1)
    customer: str
    lines: list[OrderLine] = Field(min_length=1)


class Invoice(BaseModel):
    invoice_id: str
    order_id: str
    customer: str
    total: float


class Shipment(BaseModel):
    shipment_id: str
    order_id: str
    customer: str
    carrier: str


class Notification(BaseModel):
    customer: str
    message: str
