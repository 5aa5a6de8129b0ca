"""Country names for inventory codes (builder.countries)."""

from builder import countries


def test_names_and_us_states_grouped():
    assert countries.country_name("POL") == "Poland"
    assert countries.country_name("ZAF") == "South Africa"
    assert countries.country_name("USA-AL") == countries.country_name("USA") == "United States"
    assert countries.country_code("usa-al") == "USA"
    assert countries.region_name("USA-AL") == "Alabama" and countries.region_name("POL") == ""
    assert countries.place_name("USA-TX") == "Texas, United States"
    assert countries.country_name("RUS") == "Russia"          # override of the official name
    assert countries.country_name("BOL") == "Bolivia"         # pycountry's common name
    assert countries.country_name("QQQ") == "QQQ" and countries.country_name(None) == ""


def test_aliases_are_other_names_not_the_shown_one():
    assert "Turkey" in countries.country_aliases("TUR")
    assert countries.country_name("TUR") not in countries.country_aliases("TUR")
    assert "USA" in countries.country_aliases("USA-AL") and countries.country_aliases("") == ()
