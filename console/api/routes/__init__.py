"""One ``APIRouter`` per domain, each route declaring who may call it; ``app.py`` includes them."""
