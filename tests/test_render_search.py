"""Search records of the sources (builder.render.search)."""

from __future__ import annotations

from builder.render import search


def test_fold_spells_accents_and_special_letters_in_ascii():
    assert search.fold("Bełchatów") == "Belchatow"
    assert search.fold("Jänschwalde Øresund Großkraftwerk") == "Janschwalde Oresund Grosskraftwerk"
    assert search.fold("Tokyo") == "Tokyo"


def test_every_source_gets_a_record_with_ids_country_and_ascii_name():
    sources = [dict(source_id="coco2-15522", name="Bełchatów — coal, 5,472 MW (POL)", plant_name="Bełchatów",
                    country="POL", fuel="coal", kind="power_plant", inventory="CoCO2 v1.1"),
               dict(source_id="coco2-00007", name="Gas power plant CoCO2_00007 (USA-AL)", country="USA-AL",
                    fuel="natural gas", kind="power_plant")]
    pages = {"coco2-15522": "sources/coco2-15522/"}
    rows = {"coco2-00007": "countries/usa/3/#s-coco2-00007"}
    recs = search.source_records(sources, lambda sid: pages.get(sid) or rows[sid])
    assert [r["url"] for r in recs] == ["/countries/usa/3/#s-coco2-00007", "/sources/coco2-15522/"]
    bel = recs[1]["content"]
    for word in ("Bełchatów", "Belchatow", "Poland", "coco2-15522", "15522", "CoCO2_15522", "coal"):
        assert word in bel, word
    assert "United States" in recs[0]["content"] and "Alabama" in recs[0]["content"]
    assert recs[0]["meta"] == dict(title="Gas power plant CoCO2_00007 (USA-AL)", place="Alabama, United States")


def test_stub_pages_carry_the_record_url_and_are_escaped(tmp_path):
    recs = [dict(url="/countries/x/#s-1", content="<b>evil</b>", meta=dict(title="<script>", place=""))]
    search._write_stubs(tmp_path, recs)
    html = (tmp_path / "0.html").read_text()
    assert 'data-pagefind-meta="url[href]" href="../countries/x/#s-1"' in html
    assert "<script>" not in html and "&lt;b&gt;evil" in html and "data-pagefind-body" in html


def test_records_hold_other_names_of_the_country():
    """A reader typing "Turkey" finds a plant in Türkiye (pycountry's shown name)."""
    recs = search.source_records([dict(source_id="coco2-1", name="Afsin-Elbistan — coal (TUR)", country="TUR")],
                                 lambda sid: "sources/coco2-1/")
    assert "Turkey" in recs[0]["content"] and "Türkiye" in recs[0]["content"]
