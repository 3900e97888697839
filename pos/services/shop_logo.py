"""The shop's logo: set from an uploaded image, removed, and read for printing.

The upload is turned into one PNG at most LOGO_WIDTH dots wide (an 80 mm receipt printer's
line; screens scale it down) and LOGO_HEIGHT high, stored in pos.models.ShopLogo; the shop's
settings record when it changed, so that pages know there is one without reading it.
"""

from io import BytesIO

from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageOps

from pos.models import ShopLogo, ShopSettings

LOGO_WIDTH = 576  # dots across an 80 mm printer at 203 dpi
LOGO_HEIGHT = 240
MAX_UPLOAD_BYTES = 2 * 1024 * 1024


@transaction.atomic
def set_logo(shop: ShopSettings, image_file) -> None:
    """Store `image_file` (already checked to be an image) as the shop's logo."""
    with Image.open(image_file) as image:
        picture = ImageOps.exif_transpose(image).convert("RGBA")
    picture.thumbnail((LOGO_WIDTH, LOGO_HEIGHT))
    png = BytesIO()
    picture.save(png, "PNG", optimize=True)
    now = timezone.now()
    ShopLogo.objects.update_or_create(pk=1, defaults={"png": png.getvalue(), "updated_at": now})
    shop.logo_updated_at = now


@transaction.atomic
def remove_logo(shop: ShopSettings) -> None:
    ShopLogo.objects.filter(pk=1).delete()
    shop.logo_updated_at = None


def logo_png() -> bytes | None:
    found = ShopLogo.objects.filter(pk=1).values_list("png", flat=True).first()
    return bytes(found) if found is not None else None


def printable_logo(width: int) -> Image.Image | None:
    """The logo for a printer `width` dots wide: black on white, no wider than the paper."""
    png = logo_png()
    if png is None:
        return None
    with Image.open(BytesIO(png)) as image:
        picture = image.convert("RGBA")
    white = Image.new("RGBA", picture.size, "white")
    picture = Image.alpha_composite(white, picture).convert("L")
    if picture.width > width:
        picture.thumbnail((width, LOGO_HEIGHT))
    return picture.convert("1")
