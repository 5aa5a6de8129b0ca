"""Human number formats shared by every page (builder.render.fmt)."""

import math

from builder.render import fmt


def test_significant_digits_never_use_exponents():
    assert fmt.sig(5321.4) == "5,320"
    assert fmt.pm(5321.4, 2304.0, unit="kg/s") == "5,320 ± 2,300 kg/s"
    assert fmt.sig(0.0012345) == "0.00123"
    assert fmt.sig(38_400_000.0) == "38,400,000"
    assert "e" not in fmt.sig(1.5e12) and "e" not in fmt.sig(-7.7e-7)
    assert fmt.num(math.nan) == fmt.pm(None, 1.0) == "—"
    assert fmt.pm(2.0, math.inf, ".1f") == "2.0"


def test_file_sizes_and_megatonnes():
    assert fmt.file_size(8_260_500) == "8.3 MB"
    assert fmt.file_size(512_000) == "512 kB"
    assert fmt.file_size(950) == "950 bytes"
    assert fmt.file_size(12_345) == "12.3 kB"
    assert fmt.file_size(3.2e9) == "3.2 GB"
    assert fmt.mt_yr(38_400_000) == "38.4 Mt/yr"
