"""All tables. Import models from here so that SQLModel.metadata knows every one."""
from app.models.catalog import Product, ProductBarcode
from app.models.inbound import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from app.models.orders import (
    Discrepancy,
    DiscrepancyStatus,
    InboxEvent,
    InboxStatus,
    Order,
    OrderLine,
    OrderStatus,
    OrderTimelineEntry,
)
from app.models.sign_in import SignInCounter
from app.models.stock import Allocation, Movement, MovementType, StockLevel
from app.models.users import ApiToken, Role, Setting, User
from app.models.warehouse import PHYSICAL_TYPES, VIRTUAL_TYPES, Location, LocationType, Warehouse

__all__ = [
    "Allocation",
    "ApiToken",
    "Discrepancy",
    "DiscrepancyStatus",
    "InboxEvent",
    "InboxStatus",
    "Location",
    "LocationType",
    "Movement",
    "MovementType",
    "Order",
    "OrderLine",
    "OrderStatus",
    "OrderTimelineEntry",
    "PHYSICAL_TYPES",
    "Product",
    "ProductBarcode",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "PurchaseOrderStatus",
    "Role",
    "Setting",
    "SignInCounter",
    "StockLevel",
    "User",
    "VIRTUAL_TYPES",
    "Warehouse",
]
