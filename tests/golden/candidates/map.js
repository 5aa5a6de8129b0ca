var map_candidates_001 = L.map(
"map_candidates_001",
{
center: [20.0, 0.0],
crs: L.CRS.EPSG3857,
...{
"zoom": 2,
"zoomControl": true,
"preferCanvas": true,
"worldCopyJump": true,
"minZoom": 1,
"maxZoom": 14,
}
}
);
L.control.scale().addTo(map_candidates_001);
AtlasMap.basemap(map_candidates_001, "../assets/basemap/countries.geojson");
L.control.fullscreen(
{
"position": "topleft",
"title": "Full Screen",
"titleCancel": "Exit Full Screen",
"forceSeparateButton": false,
}
).addTo(map_candidates_001);
var circle_marker_004 = L.circleMarker(
[10.05, 40.04],
{"bubblingMouseEvents": true, "color": "#117a65", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#117a65", "fillOpacity": 0.7, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 10, "stroke": true, "weight": 1.5}
).addTo(map_candidates_001);
circle_marker_004.bindTooltip("Candidate cand-0001: 2 detections, 2 orbits");
circle_marker_004.bindPopup("\u003ca href=\"#cand-0001\"\u003eCandidate cand-0001\u003c/a\u003e");
var circle_marker_007 = L.circleMarker(
[10.0, 40.0],
{"bubblingMouseEvents": true, "color": "#d68910", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#d68910", "fillOpacity": 0.7, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 5, "stroke": true, "weight": 1.5}
).addTo(map_candidates_001);
circle_marker_007.bindTooltip("Detection OCO-2-22100-2018081309212213");
circle_marker_007.bindPopup("\u003ca href=\"../detections/OCO-2-22100-2018081309212213/\"\u003eDetection on 2018-08-13\u003c/a\u003e");
var circle_marker_010 = L.circleMarker(
[10.1, 40.08],
{"bubblingMouseEvents": true, "color": "#d68910", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#d68910", "fillOpacity": 0.7, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 5, "stroke": true, "weight": 1.5}
).addTo(map_candidates_001);
circle_marker_010.bindTooltip("Detection OCO-2-22333-2018082909222451");
circle_marker_010.bindPopup("\u003ca href=\"../detections/OCO-2-22333-2018082909222451/\"\u003eDetection on 2018-08-29\u003c/a\u003e");
map_candidates_001.fitBounds(
[[9.05, 39.04], [11.05, 41.04]],
{}
);
