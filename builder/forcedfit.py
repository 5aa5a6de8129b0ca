"""A measurement at every overpass of every inventory source, detected or not.

Like forced photometry in astronomy: the position of each plume on the track
is *predicted* from the source and the wind, and the enhancement is fitted
there, whatever its size or sign. Averaging these measurements over all
overpasses has no selection bias, unlike an average over detections only (the
winner's curse: only crossings that noise pushed over a threshold are kept).

Model, per track segment (one least-squares solve):

    XCO2(s) = b + m (s - s0) + sum_k A_k g(s - c_k; w_k)

with g the unit-area Gaussian, c_k the predicted crossing of source k and
w_k^2 = sigma_al^2 + sigma_pos^2: the expected along-track width of the plume
(Pasquill-Gifford sigma_y / sin(wind, track); Martin 1976) widened by the
spread of the crossing position that the wind-direction error causes
(downwind x tan(sigma_dir) / sin(wind, track)). Averaged over that spread,
the least-squares area of a plume of width sigma_al is unbiased only with
exactly this template width (the expected overlap of a shifted Gaussian), so
the centre is *marginalised* over the direction error rather than moved to
the maximum, which would bias the estimate upwards. For fixed centres and
widths the model is linear in the A_k, so sources whose templates overlap on
one track are **deblended** in one solve: a small plant beside a large one
does not inherit the large plume.

The 1-sigma of A_k: the least-squares covariance with the local white noise
(successive differences), scaled up by the empirical scatter of the same
single-template fit at every km of the track (correlated errors; see
builder.trackgeom.TrackGeometry.null_lookup) where that is larger.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Templates closer than this many widths (sum of both) are fitted jointly.
BLEND_WIDTHS = 2.0
#: Background window: +-max(MIN_HALF_KM, HALF_WIDTHS x width) around the segment.
MIN_HALF_KM = 50.0
HALF_WIDTHS = 4.0
#: Widest template [km]: the empirical null is measured up to 32 km.
MAX_WIDTH_KM = 32.0
MIN_SOUNDINGS = 30


@dataclass
class ForcedFit:
    """Per overpass: area A [ppm km], its 1-sigma, and the group of jointly fitted rows."""

    area_ppm_km: np.ndarray
    area_unc_ppm_km: np.ndarray
    group: np.ndarray            #: rows with the same group were fitted together (deblended)


def template_width_km(sigma_al_km, downwind_km, sin_wind_track, dir_unc_deg: float) -> np.ndarray:
    """Along-track template width [km]: plume width and crossing-position spread in quadrature;
    NaN where that exceeds MAX_WIDTH_KM (far downwind, or the wind nearly along the track): the
    crossing is then too uncertain to be measured without bias, and no forced fit is made."""
    pos = np.nan_to_num(downwind_km, nan=0.0) * np.tan(np.radians(dir_unc_deg)) / np.maximum(sin_wind_track, 0.2)
    w = np.sqrt(np.asarray(sigma_al_km) ** 2 + pos ** 2)
    return np.where(w <= MAX_WIDTH_KM, w, np.nan)


#: Good soundings needed on each side of a crossing, within SIDE_WIDTHS template widths
#: (at least MIN_SIDE_KM).
MIN_SIDE_SOUNDINGS = 5
SIDE_WIDTHS = 2.0
MIN_SIDE_KM = 5.0


def two_sided(along_km: np.ndarray, xco2_ppm: np.ndarray, centres_km: np.ndarray, widths_km: np.ndarray) -> np.ndarray:
    """True where the track has MIN_SIDE_SOUNDINGS good soundings on *each* side of the
    crossing within SIDE_WIDTHS widths (at least MIN_SIDE_KM). A crossing seen from one side only (the track
    ends, or a cloud gap) leaves the template's area and the background slope
    degenerate: the estimate swings far either way. The rule uses only where the
    soundings are, never their values, so it selects nothing by the estimate."""
    fin = np.isfinite(xco2_ppm)
    a = along_km[fin]
    c = np.nan_to_num(centres_km, nan=0.0)
    w = np.maximum(SIDE_WIDTHS * np.nan_to_num(widths_km, nan=0.0), MIN_SIDE_KM) / SIDE_WIDTHS
    left = np.searchsorted(a, c, side="left") - np.searchsorted(a, c - SIDE_WIDTHS * w, side="left")
    right = np.searchsorted(a, c + SIDE_WIDTHS * w, side="right") - np.searchsorted(a, c, side="right")
    return (left >= MIN_SIDE_SOUNDINGS) & (right >= MIN_SIDE_SOUNDINGS)


def groups(centres_km: np.ndarray, widths_km: np.ndarray) -> np.ndarray:
    """Group label per row: rows whose templates overlap (chained) share a label."""
    n = len(centres_km)
    if n == 0:
        return np.zeros(0, dtype=int)
    order = np.argsort(centres_km, kind="stable")
    c, w = centres_km[order], widths_km[order]
    reach = np.maximum.accumulate(c + BLEND_WIDTHS * w)        # right edge of the running group
    new = np.concatenate([[True], c[1:] - BLEND_WIDTHS * w[1:] > reach[:-1]])
    label = np.empty(n, dtype=int)
    label[order] = np.cumsum(new) - 1
    return label


def forced_fit(along_km: np.ndarray, xco2_ppm: np.ndarray, white_ppm: np.ndarray, centres_km: np.ndarray,
               widths_km: np.ndarray, empirical_unc: np.ndarray, prior_kg_s: np.ndarray | None = None,
               templates=None) -> ForcedFit:
    """Fit the areas of the plumes expected at ``centres_km`` (templates of ``widths_km``,
    see :func:`template_width_km`) on one track (``along_km`` sorted). With ``templates``
    (builder.plumetemplate.PlumeTemplates: ``columns(rows, sounding_idx)``) each row's
    template is its expected 2-D plume instead of the Gaussian; centres and widths then
    only place the background window. ``white_ppm``: local
    white-noise sd per row; ``empirical_unc``: the empirical 1-sigma of a lone template's area
    at this place of the track (correlated errors included; NaN: unknown), which scales the
    least-squares error up when larger.
    Templates that the data cannot tell apart (a variance inflation above MAX_VIF in
    the joint fit: sources a few km apart on one crossing) are fitted as one, with the
    area shared in proportion to ``prior_kg_s`` (the inventories; equal shares without).
    Rows whose segment has fewer than MIN_SOUNDINGS soundings get NaN."""
    n = len(centres_km)
    area = np.full(n, np.nan)
    unc = np.full(n, np.nan)
    prior = np.ones(n) if prior_kg_s is None else np.fmax(np.nan_to_num(np.asarray(prior_kg_s, float)), 1e-9)
    label = groups(centres_km, np.nan_to_num(widths_km, nan=0.0))
    label[~np.isfinite(widths_km) | ~np.isfinite(centres_km)] = -1       # not measurable
    label[~two_sided(along_km, xco2_ppm, centres_km, widths_km)] = -1
    for g in np.unique(label[label >= 0]):
        rows = np.flatnonzero(label == g)
        rows = rows[np.argsort(centres_km[rows], kind="stable")]
        members = [[r] for r in rows]                 # templates, each the rows it stands for
        while True:
            c, w = _merged(members, centres_km, widths_km, prior)
            white = np.array([white_ppm[m].max() for m in members])
            res = _fit_group(along_km, xco2_ppm, c, w, white, *_nuisance(label, g, c, w, centres_km, widths_km),
                             shapes=None if templates is None else _Shapes(templates, members, prior))
            if res is not None or len(members) == 1:
                break
            # unresolvable: merge the closest neighbours (in widths) and try again
            gap = np.diff(c) / (w[1:] + w[:-1])
            j = int(np.argmin(gap))
            members[j:j + 2] = [members[j] + members[j + 1]]
        if res is None:
            continue
        a, a_white, single = res
        for t, m in enumerate(members):
            p = prior[m] / prior[m].sum()              # a merged template's area shared by inventory
            emp = np.nanmax(empirical_unc[m]) if np.isfinite(empirical_unc[m]).any() else np.nan
            with np.errstate(invalid="ignore", divide="ignore"):   # a zero-width template: k = 1
                k = max(np.nan_to_num(emp / single[t], nan=1.0), 1.0)
            area[m], unc[m] = a[t] * p, a_white[t] * k * p
    return ForcedFit(area, unc, label)


def _merged(members: list[list[int]], centres_km, widths_km, prior) -> tuple[np.ndarray, np.ndarray]:
    """Centre and width of each (possibly merged) template: the prior-weighted mean centre, and
    the members' widths and spread of centres in quadrature."""
    c, w = np.empty(len(members)), np.empty(len(members))
    for t, m in enumerate(members):
        p = prior[m] / prior[m].sum()
        c[t] = np.sum(p * centres_km[m])
        w[t] = np.sqrt(np.sum(p * (widths_km[m] ** 2 + (centres_km[m] - c[t]) ** 2)))
    return c, np.minimum(w, MAX_WIDTH_KM)


#: Joint fits whose amplitude variance is inflated more than this by the overlap of the
#: templates (variance inflation factor) are not resolvable: the sources are fitted as one.
MAX_VIF = 10.0


def _columns(s: np.ndarray, c: np.ndarray, w: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Template columns (unit-peak Gaussians) and the area per unit coefficient.

    A box template (the integral of whatever lies within +-2.5 widths) was tried for lone
    plumes, being shape-independent; on the simulated months it did not remove the low bias
    of the per-source ratios and doubled the error: see docs/validation.md."""
    return [np.exp(-0.5 * ((s - ck) / wk) ** 2) for ck, wk in zip(c, w)], w * np.sqrt(2 * np.pi)


def _window(c: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Along-track extent [km] of the background window of templates at ``c`` of widths ``w``."""
    half = np.maximum(MIN_HALF_KM, HALF_WIDTHS * w)
    return float(np.min(c - half)), float(np.max(c + half))


def _nuisance(label, g, c, w, centres_km, widths_km) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres, widths and rows of the other measurable templates (other groups) whose centre
    lies in the background window of group ``g``: fitted alongside as nuisance plumes, so
    that a known plume near the window's edge is not absorbed by the linear background
    (which would tilt it and bias this group's areas low)."""
    lo, hi = _window(c, w)
    other = np.flatnonzero((label >= 0) & (label != g) & (centres_km >= lo) & (centres_km <= hi))
    return centres_km[other], widths_km[other], other


class _Shapes:
    """2-D template columns of a group's (possibly merged) members and of nuisance rows: a
    merged template is the prior-weighted sum of its members' expected plumes."""

    def __init__(self, templates, members: list[list[int]], prior: np.ndarray):
        self.templates, self.members, self.prior = templates, members, prior

    def group(self, idx: np.ndarray) -> list[np.ndarray]:
        rows = np.concatenate(self.members)
        cols = dict(zip(rows, self.templates.columns(rows, idx)))
        out = []
        for m in self.members:
            p = self.prior[m] / self.prior[m].sum()
            out.append(sum(pk * cols[r] for pk, r in zip(p, m)))
        return out

    def rows(self, rows: np.ndarray, idx: np.ndarray) -> list[np.ndarray]:
        return list(self.templates.columns(rows, idx)) if len(rows) else []


def _fit_group(along_km, xco2_ppm, c, w, white, nc=(), nw=(), nrows=(), shapes: _Shapes | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(areas, their white-noise sd, a lone Gaussian template's sd) of the templates at ``c``
    of widths ``w`` (:func:`_columns`; or ``shapes``' 2-D plumes) on a linear background,
    with nuisance templates at ``nc`` of widths ``nw`` (rows ``nrows``) fitted alongside
    (dropped when they make the fit unresolvable); None when too few soundings or not
    resolvable. The third value is what the empirical error of a Gaussian-area fit is
    compared with (builder.trackgeom.TrackGeometry.null_lookup measures that one)."""
    lo_km, hi_km = _window(c, w)
    lo = np.searchsorted(along_km, lo_km, side="left")
    hi = np.searchsorted(along_km, hi_km, side="right")
    s, y = along_km[lo:hi], xco2_ppm[lo:hi]
    ok = np.isfinite(y)
    s, y = s[ok], y[ok]
    if len(s) < MIN_SOUNDINGS:
        return None
    idx = np.arange(lo, hi)[ok]
    s0, h = float(np.mean(s)), 0.5 * (hi_km - lo_km)
    gauss, per_unit = _columns(s, c, w)
    base = [np.ones_like(s), (s - s0) / h]
    ref = np.array([_single_white(s, s0, h, col) for col in gauss]) * per_unit
    if shapes is None:
        cols, single = gauss, ref
        nuis = _columns(s, np.asarray(nc), np.asarray(nw))[0] if len(nc) else []
    else:
        cols, per_unit = shapes.group(idx), np.ones(len(c))
        single = np.array([_single_white(s, s0, h, col) for col in cols])
        nuis = shapes.rows(np.asarray(nrows, dtype=int), idx)
    for extra in (nuis, []):
        x = np.column_stack(base + cols + extra)
        inv = _inverse(x.T @ x)
        if inv is None:
            continue
        a_white = np.sqrt(np.diag(inv)[2:2 + len(c)]) * per_unit
        if (len(c) > 1 or extra) and np.any(a_white / single > np.sqrt(MAX_VIF)):
            continue
        beta = inv @ (x.T @ y)
        return beta[2:2 + len(c)] * per_unit, a_white * white, ref * white
    return None


def _inverse(xtx: np.ndarray) -> np.ndarray | None:
    """Inverse of a normal matrix with O(1) scaled columns, None when (nearly) singular:
    templates too close to be told apart, or too few soundings under one."""
    d = np.sqrt(np.diag(xtx))
    if not np.all(d > 0):
        return None
    if np.linalg.det(xtx / np.outer(d, d)) < 1e-10:
        return None
    return np.linalg.inv(xtx)


def _single_white(s: np.ndarray, s0: float, half: float, col: np.ndarray) -> float:
    """sd of one template's coefficient for unit white noise, alone on a linear background."""
    x = np.column_stack([np.ones_like(s), (s - s0) / half, col])
    inv = _inverse(x.T @ x)
    return np.nan if inv is None else float(np.sqrt(inv[2, 2]))


def emission_unc_kg_s(stat_kg_s, reference_kg_s, wind_speed_rel: float, structure_rel: float,
                      direction_rel) -> np.ndarray:
    """1-sigma of a forced emission estimate: the statistical part and the relative
    wind-speed, plume-structure and wind-direction terms, the latter applied to the
    *reference* emission (the inventory at the overpass hour), not to the estimate,
    so that the weights of a combination do not depend on the noise (an estimate
    pushed low by noise would otherwise get a smaller error and more weight)."""
    ref = np.nan_to_num(np.asarray(reference_kg_s, dtype=float), nan=0.0)
    rel2 = wind_speed_rel ** 2 + structure_rel ** 2 + np.asarray(direction_rel, dtype=float) ** 2
    return np.sqrt(np.asarray(stat_kg_s, dtype=float) ** 2 + ref ** 2 * rel2)


#: Offsets (in units of the crossing-position spread) tried by the detection scan.
SCAN_OFFSETS = np.linspace(-2.0, 2.0, 9)


def scan_positions(centres_km: np.ndarray, plume_width_km: np.ndarray,
                   position_unc_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(centres, widths) tried by :func:`scan_significance`, overpass-major: each predicted
    crossing moved by SCAN_OFFSETS x its position spread, with the expected plume width."""
    cen = centres_km[:, None] + SCAN_OFFSETS[None, :] * np.nan_to_num(position_unc_km, nan=0.0)[:, None]
    wid = np.broadcast_to(np.asarray(plume_width_km, dtype=float)[:, None], cen.shape)
    return cen.ravel(), wid.ravel().copy()


def scan_significance(area_ppm_km: np.ndarray, empirical_unc: np.ndarray, white_unc: np.ndarray,
                      n: int) -> tuple[np.ndarray, np.ndarray]:
    """Detection statistic per overpass: the largest z = A / sigma(A) over the
    :func:`scan_positions` of a single Gaussian of the expected plume width (no
    position widening, so it matches the plume) on a linear background, at centres
    moved by up to +-2 x the crossing-position spread of the wind-direction error.
    A and its empirical sigma come from the track's grid fit (one FFT per width;
    builder.trackgeom.TrackGeometry.null_lookup), sigma never below the white-noise
    value ``white_unc``. Several correlated tries: the threshold on z is calibrated on
    plume-free simulated crossings, not taken from a normal table.
    Returns (z, sigma at the predicted crossing)."""
    a = np.asarray(area_ppm_km, dtype=float).reshape(n, len(SCAN_OFFSETS))
    sig = np.fmax(np.nan_to_num(np.asarray(empirical_unc, dtype=float), nan=0.0).reshape(a.shape),
                  np.asarray(white_unc, dtype=float)[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(np.isfinite(a) & (sig > 0), a / sig, -np.inf)
    best = z.max(axis=1) if n else np.zeros(0)
    return np.where(np.isfinite(best), best, np.nan), sig[:, len(SCAN_OFFSETS) // 2] if n else np.zeros(0)
