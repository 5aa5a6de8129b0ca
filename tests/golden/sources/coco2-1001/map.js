var map_source_001 = L.map(
"map_source_001",
{
center: [51.266, 19.326],
crs: L.CRS.EPSG3857,
...{
"zoom": 8,
"zoomControl": true,
"preferCanvas": true,
"worldCopyJump": true,
"minZoom": 1,
"maxZoom": 14,
}
}
);
L.control.scale().addTo(map_source_001);
AtlasMap.basemap(map_source_001, "../../assets/basemap/countries.geojson");
L.control.fullscreen(
{
"position": "topleft",
"title": "Full Screen",
"titleCancel": "Exit Full Screen",
"forceSeparateButton": false,
}
).addTo(map_source_001);
var poly_line_004 = L.polyline(
[[50.45, 19.45], [52.45, 19.05]],
{"bubblingMouseEvents": true, "color": "#2471a3", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#2471a3", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.8, "smoothFactor": 1.0, "stroke": true, "weight": 4}
).addTo(map_source_001);
poly_line_004.bindTooltip("Orbit 21950 on 2018-08-03: detected");
var poly_line_006 = L.polyline(
[[51.45, 19.25], [51.61169601149839, 19.365316429926313]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_source_001);
poly_line_006.bindTooltip("Wind at orbit 21950: 4.9 m/s from 204\u00b0");
var poly_line_008 = L.polyline(
[[51.55871361839741, 19.374138136815674], [51.61169601149839, 19.365316429926313], [51.5802730865972, 19.296299546615415]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_source_001);
poly_line_008.bindTooltip("Wind at orbit 21950: 4.9 m/s from 204\u00b0");
var poly_line_010 = L.polyline(
[[50.4, 19.58], [52.4, 19.18]],
{"bubblingMouseEvents": true, "color": "#2471a3", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#2471a3", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.8, "smoothFactor": 1.0, "stroke": true, "weight": 4}
).addTo(map_source_001);
poly_line_010.bindTooltip("Orbit 22183 on 2018-08-19: detected");
var poly_line_012 = L.polyline(
[[51.4, 19.38], [51.50779734099892, 19.466392744343214]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_source_001);
poly_line_012.bindTooltip("Wind at orbit 22183: 3.4 m/s from 207\u00b0");
var poly_line_014 = L.polyline(
[[51.47157743442328, 19.4697620613726], [51.50779734099892, 19.466392744343214], [51.48774703557312, 19.41792641476667]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_source_001);
poly_line_014.bindTooltip("Wind at orbit 22183: 3.4 m/s from 207\u00b0");
var poly_line_016 = L.polyline(
[[50.565999999999995, 19.626], [52.565999999999995, 19.226000000000003]],
{"bubblingMouseEvents": true, "color": "#7f8c8d", "dashArray": "6 6", "dashOffset": null, "fill": false, "fillColor": "#7f8c8d", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.8, "smoothFactor": 1.0, "stroke": true, "weight": 4}
).addTo(map_source_001);
poly_line_016.bindTooltip("Orbit 22416 on 2018-08-31: not detected");
var poly_line_018 = L.polyline(
[[51.565999999999995, 19.426000000000002], [51.49413510600071, 19.599415595991506]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_source_001);
poly_line_018.bindTooltip("Wind at orbit 22416: 3.6 m/s from 304\u00b0");
var poly_line_020 = L.polyline(
[[51.49672224218469, 19.536812565838574], [51.49413510600071, 19.599415595991506], [51.52906144448436, 19.571495685036876]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_source_001);
poly_line_020.bindTooltip("Wind at orbit 22416: 3.6 m/s from 304\u00b0");
var circle_marker_022 = L.circleMarker(
[51.45, 19.25],
{"bubblingMouseEvents": true, "color": "#c0392b", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#c0392b", "fillOpacity": 0.7, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 7, "stroke": true, "weight": 1.5}
).addTo(map_source_001);
circle_marker_022.bindTooltip("Detection OCO-2-21950-2018080312031531: 637 \u00b1 250 kg/s");
circle_marker_022.bindPopup("\u003ca href=\"../../detections/OCO-2-21950-2018080312031531/\"\u003eDetection on 2018-08-03\u003c/a\u003e");
var circle_marker_025 = L.circleMarker(
[51.4, 19.38],
{"bubblingMouseEvents": true, "color": "#c0392b", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#c0392b", "fillOpacity": 0.7, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 7, "stroke": true, "weight": 1.5}
).addTo(map_source_001);
circle_marker_025.bindTooltip("Detection OCO-2-22183-2018081912041272: 473 \u00b1 190 kg/s");
circle_marker_025.bindPopup("\u003ca href=\"../../detections/OCO-2-22183-2018081912041272/\"\u003eDetection on 2018-08-19\u003c/a\u003e");
var circle_marker_028 = L.circleMarker(
[51.266, 19.326],
{"bubblingMouseEvents": true, "color": "#5b3f8c", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#5b3f8c", "fillOpacity": 0.9, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 10, "stroke": true, "weight": 1.5}
).addTo(map_source_001);
circle_marker_028.bindTooltip("Be\u0142chat\u00f3w (38,400,000 t/yr)");
map_source_001.fitBounds(
[[50.199999999999996, 18.85], [52.766, 19.826]],
{}
);
