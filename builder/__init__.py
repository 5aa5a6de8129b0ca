"""CO2 emissions atlas from space: OCO-2/OCO-3 plume detection, quantification,
attribution and a static HTML atlas.

Pipeline stages (one module each, data flowing one way)::

    soundings -> detect -> quantify -> attribute -> compare -> render
"""

__version__ = "0.1.0"
