"""Foreign product names read as the catalogue's English names (supportmesh_core.product_names)."""

import gzip
import json
import pathlib

import pytest
import yaml
from supportmesh_core.product_names import in_english

pytestmark = pytest.mark.unit

REPO = pathlib.Path(__file__).resolve().parents[4]


@pytest.mark.parametrize(("text", "english"), [
    ("Hola, quiero devolver el casco de bicicleta del pedido #W5697187",
     "Hola, quiero devolver el Cycling Helmet del pedido #W5697187"),
    ("Ich brauche eine Rechnung für den Wasserkocher", "Ich brauche eine Rechnung für den Electric Kettle"),
    ("je veux échanger mes lunettes de soleil", "je veux échanger mes Sunglasses"),
    ("LUNETTES DE SOLEIL", "Sunglasses"),                         # case and accents do not matter
    ("dos mochilas y las zapatillas de correr", "dos Backpack y las Running Shoes"),   # plurals
    ("mein E-Book-Reader und die Kopfhörer", "mein E-Reader und die Headphones"),
    ("il reloj inteligente, no el reloj de pared", "il Smart Watch, no el Wall Clock"),  # the longest form first
])
def test_foreign_product_names_read_as_the_catalogues(text, english):
    assert in_english(text) == english


@pytest.mark.parametrize("text", [
    "I want a handy tablet and a pile of notebooks",
    "Please return the Cycling Helmet from order #W5697187.",
    "",
])
def test_english_text_is_unchanged(text):
    assert in_english(text) == text


def test_every_name_is_a_product_of_the_store():
    raw = yaml.safe_load((REPO / "libs/core/src/supportmesh_core/data/product_names.yaml").read_text("utf-8"))
    with gzip.open(REPO / "data/retail/db.json.gz", "rt") as f:
        catalogue = {p["name"] for p in json.load(f)["products"].values()}
    assert set(raw) == catalogue
    assert all(len(forms) >= 4 for forms in raw.values()), "five languages, most names in each"
