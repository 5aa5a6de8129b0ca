/* Map helpers for the atlas: local basemap and points loaded from JSON files.
   Popups are built with DOM text nodes, never from HTML strings of data. */
(function () {
  "use strict";
  var COLORS = {source: "#5b3f8c", attributed: "#c0392b", unattributed: "#d68910", candidate: "#117a65"};

  /* The basemap (builder/render/basemap.py): the light world layer below zoom FINE_ZOOM,
     above it the 10-degree cells of the finer one that are in view, each fetched once. */
  var FINE_ZOOM = 6, CELL = 10;
  var LAND = {fillColor: "#eef1f4", fillOpacity: 1}, BORDER = {color: "#9aa5b1", weight: 0.7};
  function basemap(map, url) {
    var pane = map.createPane("basemap");
    pane.style.zIndex = 150;
    /* detections and candidates above the inventory clusters (marker pane is 600) */
    map.createPane("atlasTop").style.zIndex = 640;
    var world = L.geoJSON(null, {pane: "basemap", interactive: false, attribution: "Natural Earth",
      style: {color: BORDER.color, weight: BORDER.weight, fillColor: LAND.fillColor, fillOpacity: 1}});
    var fine = L.layerGroup([], {attribution: "Natural Earth"}), cells = {}, worldLoaded = false;
    function loadCell(name) {
      cells[name] = true;
      fetch(url + "cells/" + name + ".json").then(function (r) { return r.json(); }).then(function (c) {
        L.geoJSON(c.fill, {pane: "basemap", interactive: false,
          style: {stroke: false, fillColor: LAND.fillColor, fillOpacity: 1}}).addTo(fine);
        L.geoJSON(c.lines, {pane: "basemap", interactive: false, style: BORDER}).addTo(fine);
      });
    }
    function update() {
      if (map.getZoom() < FINE_ZOOM) {
        if (!worldLoaded) {
          worldLoaded = true;
          fetch(url + "world.geojson").then(function (r) { return r.json(); }).then(function (g) { world.addData(g); });
        }
        map.removeLayer(fine);
        world.addTo(map);
        return;
      }
      map.removeLayer(world);
      fine.addTo(map);
      var b = map.getBounds();
      var s = Math.max(-90, Math.floor(b.getSouth() / CELL) * CELL), n = Math.min(90, b.getNorth());
      for (var lon = Math.floor(b.getWest() / CELL) * CELL; lon < b.getEast(); lon += CELL) {
        var wrapped = ((lon + 180) % 360 + 360) % 360 - 180;
        for (var lat = s; lat < n; lat += CELL) {
          if (!cells[wrapped + "_" + lat]) { loadCell(wrapped + "_" + lat); }
        }
      }
    }
    map.on("zoomend moveend", update);
    map.whenReady(update);
    wheelAfterClick(map);
    viewInUrl(map);
  }

  /* The map view in the URL fragment (#map=ZOOM/LAT/LON), so a view can be shared: read when the
     page opens, written (replacing the entry, not adding history) once the reader moved the map.
     Other fragments (anchors of the page) are left alone. */
  function viewFromUrl() {
    var m = /^#map=(\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)$/.exec(location.hash);
    return m ? {zoom: Number(m[1]), center: [Number(m[2]), Number(m[3])]} : null;
  }
  function viewInUrl(map) {
    var start = viewFromUrl(), moved = false;
    if (start) { map.setView(start.center, start.zoom, {animate: false}); }
    ["pointerdown", "wheel", "keydown", "touchstart"].forEach(function (type) {
      map.getContainer().addEventListener(type, function () { moved = true; }, {passive: true});
    });
    map.on("moveend", function () {
      if (!moved || (location.hash && !viewFromUrl())) { return; }
      var c = map.getCenter(), z = map.getZoom(), d = Math.max(1, Math.ceil(z * Math.LOG10E * Math.LN2));
      history.replaceState(null, "", location.pathname + location.search + "#map=" + z + "/" +
        c.lat.toFixed(d) + "/" + L.Util.wrapNum(c.lng, [-180, 180], true).toFixed(d));
    });
  }

  /* The mouse wheel scrolls the page, not the map, until the map is clicked or focused;
     it scrolls the page again once the pointer or the focus leaves the map. */
  function wheelAfterClick(map) {
    map.scrollWheelZoom.disable();
    map.on("click focus", function () { map.scrollWheelZoom.enable(); });
    map.on("mouseout blur", function () { map.scrollWheelZoom.disable(); });
  }

  /* Phones: the layer list starts collapsed behind its button, off the zoom buttons. */
  function smallScreen() {
    return window.matchMedia("(max-width: 700px)").matches;
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }

  /* Significant digits with thousands separators, never exponents: 5321.4 -> "5,320"
     (the twin of builder/render/fmt.py sig). */
  function fmt(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) { return "—"; }
    v = Number(v);
    if (v === 0) { return "0"; }
    var d = (digits || 3) - 1 - Math.floor(Math.log10(Math.abs(v)));
    var r = d >= 0 ? Math.round(v * Math.pow(10, d)) / Math.pow(10, d) : Math.round(v / Math.pow(10, -d)) * Math.pow(10, -d);
    var f = Math.max(d, 0);
    return r.toLocaleString("en", {minimumFractionDigits: f, maximumFractionDigits: f});
  }

  function popup(title, lines, href, root) {
    var box = el("div", null, "map-popup");
    if (href) {
      var a = el("a", title);
      a.href = root + href;
      box.appendChild(a);
    } else {
      box.appendChild(el("strong", title));
    }
    lines.forEach(function (t) { box.appendChild(el("div", t)); });
    return box;
  }

  function radius(tYr) {
    return Math.max(3, Math.min(14, 3 + 2.2 * Math.log10(Math.max(tYr || 1, 1e5) / 1e5)));
  }

  /* The home map loads map-sources.json (position, size, counts); names and the rest come from
     sources.json (same row order, read by Atlas.loadSources in atlas.js), fetched once, when a
     source marker is first hovered or opened. */
  var details = {rows: null};
  function withDetails(root, done) {
    if (details.rows) { done(); return; }
    window.Atlas.loadSources(root + "assets/data/sources.json").then(function (rows) {
      details.rows = rows;
      done();
    });
  }

  function sourcePopup(d, root) {
    return popup(d.name || d.id, [[(d.kind || "").replace("_", " "), d.fuel, d.country].filter(Boolean).join(", "),
      "Inventory: " + (d.emission_t_yr ? Math.round(d.emission_t_yr).toLocaleString("en") + " t/yr" : "—"),
      "Overpasses: " + d.n_overpasses + ", detections: " + d.n_detected], d.href, root);
  }

  function sourceMarker(r, root, i) {
    /* lat, lon, emission_kt_yr, n_overpasses, n_detected, has_page */
    var m = L.circleMarker([r[0], r[1]], {radius: radius(r[2] * 1e3), color: COLORS.source, weight: 1,
      fillColor: COLORS.source, fillOpacity: 0.55});
    m.bindTooltip(el("span", "Inventory source, " + Math.round(r[2] * 1e3).toLocaleString("en") + " t/yr"));
    m.on("mouseover", function () {
      withDetails(root, function () { m.setTooltipContent(el("span", details.rows[i].name || details.rows[i].id)); });
    });
    m.bindPopup(function () {
      if (details.rows) { return sourcePopup(details.rows[i], root); }
      withDetails(root, function () { m.setPopupContent(sourcePopup(details.rows[i], root)); });
      return el("div", "Loading…");
    });
    return m;
  }

  function detectionMarker(r, root) {
    /* id, lat, lon, attributed, source_name, emission_kg_s, emission_unc_kg_s, date, href */
    var c = r[3] ? COLORS.attributed : COLORS.unattributed;
    var m = L.circleMarker([r[1], r[2]], {radius: 6, color: "#fff", weight: 1.5, fillColor: c, fillOpacity: 0.95,
      pane: "atlasTop"});
    m.bindTooltip(el("span", "Detection " + r[7] + (r[3] ? " → " + r[4] : " (unattributed)")));
    m.bindPopup(function () {
      return popup("Detection on " + r[7], [r[3] ? "Source: " + r[4] : "Unattributed",
        "Emission: " + fmt(r[5]) + " ± " + fmt(r[6], 2) + " kg/s"], r[8], root);
    });
    return m;
  }

  function candidateMarker(r, root) {
    /* id, lat, lon, n_detections, n_orbits, mean_emission_kg_s, href */
    var m = L.circleMarker([r[1], r[2]], {radius: 9, color: COLORS.candidate, weight: 2,
      fillColor: COLORS.candidate, fillOpacity: 0.35, pane: "atlasTop"});
    m.bindTooltip(el("span", "Candidate " + r[0]));
    m.bindPopup(function () {
      return popup("Candidate " + r[0], [r[3] + " detections on " + r[4] + " orbits",
        "Mean emission: " + fmt(r[5]) + " kg/s"], r[6], root);
    });
    return m;
  }

  function odiacArea(r, root) {
    /* id, lat, lon, radius_km, emission_t_yr, name, href: a hot spot's extent, darker = denser */
    var km = Math.max(r[3] || 1, 0.5), density = (r[4] || 0) / (Math.PI * km * km);
    var m = L.circle([r[1], r[2]], {radius: km * 1000, color: "#a04000", weight: 0.5,
      fillColor: "#a04000", fillOpacity: Math.max(0.08, Math.min(0.6, 0.1 * Math.log10(Math.max(density, 1))))});
    m.bindTooltip(el("span", r[5] || r[0]));
    m.bindPopup(function () {
      return popup(r[5] || r[0], ["ODIAC: " + Math.round(r[4] || 0).toLocaleString("en") + " t/yr within " +
        fmt(km, 2) + " km (catalogued plants subtracted)"], r[6], root);
    });
    return m;
  }

  var MAKERS = {source: sourceMarker, detection: detectionMarker, candidate: candidateMarker, odiac: odiacArea};

  function points(layer, url, kind, root, limit) {
    fetch(root + url).then(function (r) { return r.json(); }).then(function (data) {
      var rows = limit > 0 ? data.rows.slice(0, limit) : data.rows;
      var make = MAKERS[kind];
      var markers = [];
      rows.forEach(function (r, i) {
        var ok = kind === "source" ? r[0] !== null && r[1] !== null : r[1] !== null && r[2] !== null;
        if (ok) { markers.push(make(r, root, i)); }
      });
      if (layer.addLayers) { layer.addLayers(markers); } else { markers.forEach(function (m) { layer.addLayer(m); }); }
      function mark() {  /* on the map container, once the layer is shown (a hidden layer: when switched on) */
        var container = layer._map && layer._map.getContainer();
        if (container) { container.setAttribute("data-" + kind + "-count", String(markers.length)); }
      }
      mark();
      layer.on("add", mark);
    });
  }

  function features(map, data, root) {
    /* A page's own circles ("c") and lines ("l"); labels are text, hrefs relative to the site root. */
    data.items.forEach(function (f) {
      var layer = f.t === "c" ?
        L.circleMarker([f.lat, f.lon], {radius: f.r, color: f.c, weight: f.s === 0 ? 0 : 1.5, stroke: f.s !== 0,
          fillColor: f.c, fillOpacity: f.o}) :
        L.polyline(f.xy, {color: f.c, weight: f.w, opacity: 0.85, dashArray: f.d || null});
      if (f.tip) { layer.bindTooltip(el("span", f.tip)); }
      if (f.href) { layer.bindPopup(function () { return popup(f.link || f.tip, [], f.href, root); }); }
      layer.addTo(map);
    });
    if (data.fit && !viewFromUrl()) { map.fitBounds(data.fit, {maxZoom: 10}); }
    map.getContainer().setAttribute("data-feature-count", String(data.items.length));
  }

  window.AtlasMap = {basemap: basemap, points: points, features: features, smallScreen: smallScreen};
})();
