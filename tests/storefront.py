"""The body static/send-cart.js posts for a real cart: Shopify's /cart.js object
whole (every field of every line, prices, images and product descriptions
included), the customer id and its signature, as JSON.stringify writes them."""

import json

from app.signature import sign

DESCRIPTION = (
    "Knitted in Portugal from soft, breathable organic cotton, this piece keeps its "
    "shape wash after wash. A relaxed fit through the body, ribbed cuffs and hem, and a "
    "clean crew neckline make it an easy layer for every season. Garment-dyed for a "
    "lived-in colour that varies slightly from piece to piece. Machine wash cold with "
    "like colours, lay flat to dry. Model is 185 cm and wears a size M. Fabric: 100% "
    "organic cotton, 280 g/m². Certified to the Global Organic Textile Standard."
)  # an ordinary product description: about 500 characters


def cart_line(index, properties_per_line):
    variant_id = 40_112_233_440_000 + index
    product_id = 8_012_345_678_000 + index
    title, variant_title = f"Organic cotton crew sweater no. {index}", "M / Heather grey"
    handle = f"organic-cotton-crew-sweater-{index}"
    image = f"https://cdn.shopify.com/s/files/1/0612/3456/7890/files/{handle}.jpg?v=1732000000"
    price, quantity = 8900, 1 + index % 3
    properties = {name: value for name, value in [
        ("Engraving", f"Happy birthday, Anna! ♥ {index}"), ("Gift wrap", "Yes, with a card"),
        ("_configurator_id", f"cfg-8f3a2c1e-{index:04d}-4b7d-9e21-5c6d7e8f9a0b"),
        ("Delivery note", "Leave with the neighbour at no. 12"),
    ][:properties_per_line]}
    return {
        "id": variant_id, "properties": properties, "quantity": quantity,
        "variant_id": variant_id, "key": f"{variant_id}:5d41402abc4b2a76b9719d911017c592",
        "title": f"{title} - {variant_title}", "price": price, "original_price": price,
        "presentment_price": price / 100, "discounted_price": price,
        "line_price": price * quantity, "original_line_price": price * quantity,
        "total_discount": 0, "discounts": [], "sku": f"OCS-{index:05d}-M-HG", "grams": 420,
        "vendor": "Northwind Knitwear", "taxable": True, "product_id": product_id,
        "product_has_only_default_variant": False, "gift_card": False, "final_price": price,
        "final_line_price": price * quantity, "url": f"/products/{handle}?variant={variant_id}",
        "featured_image": {"aspect_ratio": 0.8, "alt": title, "height": 1500, "url": image,
                           "width": 1200},
        "image": image, "handle": handle, "requires_shipping": True, "product_type": "Sweaters",
        "product_title": title, "product_description": DESCRIPTION,
        "variant_title": variant_title, "variant_options": ["M", "Heather grey"],
        "options_with_values": [{"name": "Size", "value": "M"},
                                {"name": "Colour", "value": "Heather grey"}],
        "line_level_discount_allocations": [], "line_level_total_discount": 0,
        "quantity_rule": {"min": 1, "max": None, "increment": 1}, "has_components": False,
    }


def body(lines=250, properties_per_line=3, customer_id=207119551, secret="storefront-secret"):
    """The bytes send-cart.js posts for a cart of `lines` lines."""
    items = [cart_line(index, properties_per_line) for index in range(lines)]
    total = sum(item["final_line_price"] for item in items)
    cart = {
        "token": "Z2NwLWV1cm9wZS13ZXN0NDowMUpEUzdHN0s4WEI2TjNQUjhZVjJaUVRSUA"
                 "?key=0a8d71ce2c7fa6a1f53d5a13aa5e0ba2",
        "note": "Please deliver after 5pm.", "attributes": {"Gift": "yes", "Source": "quote"},
        "original_total_price": total, "total_price": total, "total_discount": 0,
        "total_weight": 420 * len(items), "item_count": sum(i["quantity"] for i in items),
        "items": items, "requires_shipping": True, "currency": "EUR",
        "items_subtotal_price": total, "cart_level_discount_applications": [],
        "discount_codes": [],
    }
    submission = {"cart": cart, "customerId": customer_id,
                  "customerIdSignature": sign(customer_id, secret)}
    return json.dumps(submission, ensure_ascii=False, separators=(",", ":")).encode()
